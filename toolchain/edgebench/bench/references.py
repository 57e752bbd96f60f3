"""Which reference each model's outputs are compared with on the device (`--check-outputs`).

In order: the `--reference MODEL` the user names; the model's float parent when edgebench made the
model (a converted .tflite in the workspace's artifact store whose lineage has an fp32 sibling of the
same training root and no transform); else the model itself on the CPU accelerator, which checks a
GPU/NPU delegate against the CPU kernels. The runner does the comparison (android_harness/PROTOCOL.md,
the `output_agreement` line); `bench/agreement.py` judges its figures.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Mapping, Sequence

from edgebench.bench.plan import ModelFile
from edgebench.errors import UsageError
from edgebench.targets.staging import file_sha256
from edgebench.user_files import regular_file_problem

if TYPE_CHECKING:
    from edgebench.store.artifacts import ArtifactStore

ReferenceKind = Literal["named", "parent", "same_model_cpu"]
# Protocols whose runs check outputs unless told otherwise (smoke runs are for trying things fast).
CHECKED_BY_DEFAULT = frozenset({"standard", "mlperf"})


@dataclass(frozen=True)
class Reference:
    """What one model's outputs are compared with: `model` None means the model itself on CPU."""

    kind: ReferenceKind
    model: ModelFile | None = None

    @property
    def label(self) -> str:
        if self.model is None:
            return "the same model on CPU"
        return f"{'its float parent' if self.kind == 'parent' else 'the reference'} {self.model.name}"


def check_outputs_default(protocol_name: str, check_outputs: bool | None) -> bool:
    return protocol_name in CHECKED_BY_DEFAULT if check_outputs is None else check_outputs


def load_reference(path: str | os.PathLike[str]) -> ModelFile:
    where = Path(path)
    what = regular_file_problem(where)
    if what is not None:
        raise UsageError(f"--reference {str(path)!r} {what}. Expected the .tflite file to compare outputs with.")
    try:
        return ModelFile(path=where.resolve(), name=where.name, sha256=file_sha256(where),
                         size_bytes=where.stat().st_size)
    except OSError as exc:
        raise UsageError(f"--reference {str(path)!r} cannot be read: {exc.strerror}") from None


def float_parent(model: ModelFile, artifacts_root: Path | None) -> ModelFile | None:
    """The fp32 .tflite edgebench converted from the same trained model, or the file `edgebench quantize` made
    the model from, when the artifact store has it."""
    if artifacts_root is None or not artifacts_root.is_dir():
        return None
    from edgebench.store.artifacts import ArtifactStore, ConvertedModel, QuantizedModel

    store = ArtifactStore(artifacts_root)
    if store.exists("quantized", model.sha256):
        quantized = store.load("quantized", model.sha256)
        if isinstance(quantized, QuantizedModel):
            return _quantized_parent(store, quantized.parent_sha256)
    if not store.exists("converted", model.sha256):
        return None
    record = store.load("converted", model.sha256)
    if not isinstance(record, ConvertedModel) or (record.quantization == "fp32" and record.transform is None):
        return None
    for other in store.records("converted"):
        if (isinstance(other, ConvertedModel) and other.trained_id == record.trained_id
                and other.transform is None and other.quantization == "fp32"
                and other.lstm_lowering == record.lstm_lowering and other.path.is_file()):
            return load_reference(other.path)
    return None


def _quantized_parent(store: ArtifactStore, parent_sha256: str) -> ModelFile | None:
    """The parent a quantized variant was made from: a converted artifact of that content, or the copy
    `edgebench quantize` kept (artifacts/parents/<sha256>/), checked by hash."""
    from edgebench.store.artifacts import ConvertedModel

    if store.exists("converted", parent_sha256):
        converted = store.load("converted", parent_sha256)
        if isinstance(converted, ConvertedModel) and converted.path.is_file():
            return load_reference(converted.path)
    folder = store.root / "parents" / parent_sha256
    for candidate in sorted(folder.glob("*.tflite")) if folder.is_dir() else []:
        if file_sha256(candidate) == parent_sha256:
            return load_reference(candidate)
    return None


def plan_references(models: Sequence[ModelFile], reference: str | os.PathLike[str] | None,
                    artifacts_root: Path | None) -> Mapping[str, Reference]:
    """model sha256 -> its reference."""
    named = load_reference(reference) if reference is not None else None
    plan: dict[str, Reference] = {}
    for model in models:
        if named is not None:
            plan[model.sha256] = Reference("named", named)
            continue
        parent = float_parent(model, artifacts_root)
        plan[model.sha256] = Reference("parent", parent) if parent is not None else Reference("same_model_cpu")
    return plan


def reference_models(plan: Mapping[str, Reference] | None) -> list[ModelFile]:
    """The reference files to stage beside the models (each once)."""
    found: dict[str, ModelFile] = {}
    for ref in (plan or {}).values():
        if ref.model is not None:
            found.setdefault(ref.model.sha256, ref.model)
    return list(found.values())

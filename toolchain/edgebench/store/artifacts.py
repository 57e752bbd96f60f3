"""Content-addressed artifacts of the train -> optimize -> convert stages, and where they live.

The artifact store sits beside the results store: `edgebench.lineage` links the two, and train,
optimize, tune and study all read it, so it belongs to none of them.

Layout under `<workspace>/artifacts/`:

    trained/<id>/model.h5 + record.json       id = sha256(architecture, options, hyperparameters, seed, data hash
                                              [, Selective-Backprop settings])
    transformed/<id>/model.h5 + record.json   id = sha256(parent id, transform, fine-tuning settings, seed)
    converted/<id>/<arch>-<variant>-<id[:8]>.tflite + record.json   id = sha256 of the .tflite bytes
    (a descriptive file name, so measurement tables that show file names tell variants apart)
    quantized/<id>/<parent stem>-<recipe>-<id[:8]>.tflite + record.json   id = sha256 of the .tflite bytes
    (`edgebench quantize` of any float .tflite with litert-quantizer; lineage: parent sha256, recipe,
    calibration hash)

Training and fine-tuning are not byte-reproducible, so their ids key the *inputs* (spec,
seed and data hash; retraining is not byte-identical); a converted model is keyed by its
bytes. Every artifact is written into a private temporary folder and renamed into place, so a
crash or an exception never leaves a half-written artifact; if the id already exists (another
worker got there first), the existing one wins.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from edgebench.datasets.base import DatasetInfo
from edgebench.errors import UsageError

KINDS = ("trained", "transformed", "converted", "quantized")
FILES = {"trained": "model.h5", "transformed": "model.h5", "converted": "model.tflite", "quantized": "model.tflite"}


def key(payload: dict[str, Any]) -> str:
    """sha256 of canonical JSON: the id of an artifact defined by its inputs."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TrainedModel:
    """A Keras model trained from a spec with given hyperparameters, seed and data."""

    artifact_id: str
    architecture: str
    hyperparameters: dict[str, Any]
    model_options: dict[str, Any]
    seed: int
    dataset: DatasetInfo
    spec: dict[str, Any]  # the resolved StudySpec.to_json() it was trained from (dataset spec, optimize plan)
    parameter_count: int
    val_accuracy: float | None  # None when the split has no validation data
    test_accuracy: float
    epochs_run: int
    history: dict[str, list[float]]  # Keras history: loss, accuracy, val_loss, val_accuracy per epoch
    train_seconds: float
    created_utc: str
    versions: dict[str, str]
    path: Path = field(compare=False)  # model.h5; absolute, set when read from the store
    kind: str = "trained"
    # Selective-Backprop, when it trained the model: settings, lr_schedule, totals after priming and
    # per epoch examples_analyzed / _forwarded / _backpropagated, backprop_fraction, forward_seconds,
    # backward_seconds (edgebench.train.sb_loop); None for standard training.
    selective_backprop: dict[str, Any] | None = None


@dataclass(frozen=True)
class TransformedModel:
    """A trained model after a training-time optimization (pruning, clustering, QAT) and fine-tuning."""

    artifact_id: str
    transform: str  # canonical Transform.name, e.g. prune:0.5
    parent_id: str  # the TrainedModel
    architecture: str
    hyperparameters: dict[str, Any]
    seed: int
    finetune_epochs: int
    finetune_learning_rate: float
    dataset: DatasetInfo
    parameter_count: int
    val_accuracy: float | None
    test_accuracy: float  # Keras, after fine-tuning (and stripping)
    weight_sparsity: float  # fraction of exact zeros in kernels and embeddings
    max_unique_weights: int  # most distinct values in one kernel (clustering bounds it)
    covered_layers: tuple[str, ...]  # layers the transform was applied to
    uncovered_layers: tuple[str, ...]  # weighted layers it was not applied to
    note: str  # the applicability note (what partial means here), or ""
    finetune_seconds: float
    created_utc: str
    versions: dict[str, str]
    path: Path = field(compare=False)
    kind: str = "transformed"


@dataclass(frozen=True)
class ConvertedModel:
    """A .tflite variant, validated on this host with LiteRT."""

    artifact_id: str  # sha256 of the .tflite bytes
    variant: str  # canonical Recipe.name, e.g. prune:0.5+int8
    transform: str | None
    quantization: str  # fp32 | dynamic_range | float16 | int8
    parent_id: str  # the TrainedModel or TransformedModel converted
    trained_id: str  # the TrainedModel at the root of the lineage
    architecture: str
    hyperparameters: dict[str, Any]
    lstm_lowering: str | None  # unrolled | fused; None for models without an LSTM
    dataset: DatasetInfo
    size_bytes: int
    gzip_size_bytes: int  # "encoded size": gzip -9 of the file
    validation_samples: int  # test examples run through LiteRT
    xnnpack_error: str | None  # None: LiteRT's default XNNPACK delegate ran it; else its refusal
    test_accuracy: float  # LiteRT on this host
    keras_test_accuracy: float  # the Keras model that was converted, same examples
    agreement: float  # fraction of examples where LiteRT's and Keras' top-1 classes agree
    max_abs_output_diff: float  # largest |LiteRT - Keras| softmax output (after dequantizing)
    input_shape: tuple[int, ...]  # shape signature (-1 = dynamic batch)
    input_dtype: str
    output_dtype: str
    ops_by_type: dict[str, int]
    operator_count: int
    flops: int  # lower bound when flops_not_counted is not empty
    flops_not_counted: tuple[str, ...]
    parameter_count: int
    tflite_quantization: str  # what the file holds, as edgebench.inspect reads it
    weight_sparsity: float  # of the converted Keras model
    max_unique_weights: int
    convert_seconds: float
    created_utc: str
    versions: dict[str, str]
    path: Path = field(compare=False)
    kind: str = "converted"


@dataclass(frozen=True)
class QuantizedModel:
    """A .tflite made from any float .tflite by litert-quantizer (`edgebench quantize`), validated on this host."""

    artifact_id: str  # sha256 of the .tflite bytes
    recipe: str  # named recipe (optimize/lq_recipes.py) or file:<stem>
    recipe_json: list[dict[str, Any]]  # the litert-quantizer recipe that ran
    recipe_sha256: str
    parent_sha256: str  # the float .tflite it was made from
    parent_file: str  # its name as given
    parent_size_bytes: int
    calibration: str | None  # what calibrated it ("auto (...)" or a path); None for recipes without
    calibration_sha256: str | None  # hash of the calibration samples
    size_bytes: int
    gzip_size_bytes: int
    parent_gzip_size_bytes: int
    weights_quantized: dict[str, int]  # new dtype -> weight tensors quantized to it
    activations_quantized: dict[str, int]
    io_dtype_changes: list[str]  # "input NAME: float32 -> int8"
    agreement: list[dict[str, Any]]  # per output: cosine, max_abs_diff, snr_db vs the parent
    agreement_samples: int
    agreement_seed: int
    per_tensor: dict[str, Any]  # litert-quantizer's per-tensor comparison summary (or why it is missing)
    quantize_seconds: float
    created_utc: str
    versions: dict[str, str]
    path: Path = field(compare=False)
    kind: str = "quantized"


Record = TrainedModel | TransformedModel | ConvertedModel | QuantizedModel
_TYPES: dict[str, type] = {"trained": TrainedModel, "transformed": TransformedModel, "converted": ConvertedModel,
                           "quantized": QuantizedModel}


def to_json(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {"file": record.path.name}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name == "path":
            continue
        if isinstance(value, DatasetInfo):
            value = value.to_json()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def from_json(data: dict[str, Any], path: Path) -> Record:
    cls = _TYPES[data["kind"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "path":
            continue
        if f.name not in data and f.default is not dataclasses.MISSING:  # a field newer than the record
            continue
        value = data[f.name]
        if f.name == "dataset":
            value = DatasetInfo.from_json(value)
        elif isinstance(value, list) and "tuple" in str(f.type):
            value = tuple(value)
        kwargs[f.name] = value
    record: Record = cls(path=path, **kwargs)
    return record


class ArtifactStore:
    """Artifacts of one workspace (`Workspace.root / "artifacts"`)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def for_workspace(cls, workspace: Any) -> ArtifactStore:
        return cls(Path(workspace.root) / "artifacts")

    def folder(self, kind: str, artifact_id: str) -> Path:
        return self.root / kind / artifact_id

    def exists(self, kind: str, artifact_id: str) -> bool:
        return (self.folder(kind, artifact_id) / "record.json").is_file()

    def load(self, kind: str, artifact_id: str) -> Record:
        folder = self.folder(kind, artifact_id)
        try:
            data = json.loads((folder / "record.json").read_text())
        except FileNotFoundError:
            raise UsageError(f"no {kind} artifact {artifact_id} in {self.root}") from None
        return from_json(data, folder / data.get("file", FILES[kind]))

    def put(self, kind: str, artifact_id: str, write: Callable[[Path], None],
            make_record: Callable[[Path], Record], filename: str | None = None) -> Record:
        """Create an artifact atomically: `write(model_file)` fills a temporary folder, then
        `make_record(model_file)` describes it; both land under their id in one rename."""
        final = self.folder(kind, artifact_id)
        if self.exists(kind, artifact_id):
            return self.load(kind, artifact_id)
        tmp_root = self.root / ".tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / f"{kind}-{artifact_id[:16]}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            model_file = tmp / (filename or FILES[kind])
            write(model_file)
            record = make_record(final / model_file.name)  # the path it will have once renamed
            (tmp / "record.json").write_text(json.dumps(to_json(record), indent=1, sort_keys=True) + "\n")
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not self.exists(kind, artifact_id):
                    raise
                # Another process stored the same id first: keep theirs.
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return self.load(kind, artifact_id)

    def add_lineage(self, record: Record, name: str) -> Record:
        """A second record for bytes already stored under another lineage (e.g. two recipes that
        convert to the identical file): kept in <id>/lineages/<name>.json beside the first."""
        folder = self.folder(record.kind, record.artifact_id) / "lineages"
        folder.mkdir(exist_ok=True)
        tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_text(json.dumps(to_json(record), indent=1, sort_keys=True) + "\n")
        os.replace(tmp, folder / f"{name}.json")
        return self.load_lineage(record.kind, record.artifact_id, name)

    def load_lineage(self, kind: str, artifact_id: str, name: str) -> Record:
        data = json.loads((self.folder(kind, artifact_id) / "lineages" / f"{name}.json").read_text())
        return from_json(data, self.folder(kind, artifact_id) / data["file"])

    def records(self, kind: str | None = None) -> list[Record]:
        """Every stored record (of one kind), oldest first."""
        out: list[Record] = []
        for k in ([kind] if kind else KINDS):
            folder = self.root / k
            if folder.is_dir():
                out.extend(self.load(k, d.name) for d in folder.iterdir() if (d / "record.json").is_file())
        return sorted(out, key=lambda r: (r.created_utc, r.artifact_id))

    def resolve(self, ref: str, kinds: tuple[str, ...] = KINDS) -> Record:
        """The artifact whose id starts with `ref` (at least 6 characters), among `kinds`."""
        ref = ref.strip().lower()
        if len(ref) < 6:
            raise UsageError(f"artifact id {ref!r} is too short: give at least 6 hex characters")
        matches = []
        for k in kinds:
            folder = self.root / k
            if folder.is_dir():
                matches += [(k, d.name) for d in folder.iterdir() if d.name.startswith(ref)
                            and (d / "record.json").is_file()]
        if len(matches) == 1:
            return self.load(*matches[0])
        if len(matches) > 1:
            raise UsageError(f"artifact id {ref!r} is ambiguous: {', '.join(f'{k}/{i[:16]}' for k, i in matches)}")
        known = [f"{r.kind} {r.artifact_id[:16]}" for k in kinds for r in self.records(k)][-10:]
        hint = ("; recent: " + ", ".join(known)) if known else "; the store is empty (run edgebench train first)"
        raise UsageError(f"no {' or '.join(kinds)} artifact {ref!r} in {self.root}{hint}")

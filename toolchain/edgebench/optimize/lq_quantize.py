"""Quantize a float .tflite with litert-quantizer and check what it actually did.

    variant = quantize_tflite(parent_bytes, named("int4_blockwise_32"), calibration=None)

litert-quantizer's results are checked, not trusted: the parent's and the variant's tensors are
matched by name, and a tensor whose dtype changed is counted as quantized to its new dtype
(weights = tensors with constant data in the parent; activations = the rest). A recipe that
quantized no weight tensor to a dtype it asks for is a NothingQuantizedError naming the recipe and
the reason we can tell (e.g. the old operator-code layout litert-quantizer misreads as ADD), never
a variant. Input/output dtypes that changed are listed (static recipes make callers feed
quantized inputs). No TensorFlow is imported.
"""
from __future__ import annotations

import math
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ai_edge_litert import schema_py_generated as schema

from edgebench.errors import EdgebenchError, UsageError
from edgebench.inspect import tflite_fbs as fbs
from edgebench.optimize.agreement import OutputAgreement, output_agreement, seeded_inputs
from edgebench.optimize.lq_calibration import Calibration
from edgebench.optimize.lq_recipes import LqRecipe

AGREEMENT_SAMPLES = 8
AGREEMENT_SEED = 1234
_DTYPES = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_BUILTINS = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


class NothingQuantizedError(EdgebenchError):
    """A recipe ran but left the model's weights as they were: no variant is made."""


class QuantizeError(EdgebenchError):
    """litert-quantizer refused the model for this recipe (its reason is in the message)."""


@dataclass(frozen=True)
class TensorDtype:
    name: str
    dtype: str
    constant: bool


@dataclass(frozen=True)
class LqVariant:
    data: bytes
    recipe: LqRecipe
    weights_quantized: dict[str, int]  # new dtype -> weight tensors that now have it
    activations_quantized: dict[str, int]  # new dtype -> non-constant tensors that now have it
    io_dtype_changes: tuple[str, ...]  # e.g. "input image: float32 -> int8"
    agreement: tuple[OutputAgreement, ...]
    agreement_samples: int
    agreement_seed: int
    per_tensor: dict[str, Any]  # litert-quantizer's per-tensor comparison summary, or why it is missing
    quantize_seconds: float


def tensor_dtypes(data: bytes) -> dict[str, TensorDtype]:
    """Every tensor of subgraph 0 by name, with its schema dtype and whether it holds constant data."""
    model = schema.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)
    out = {}
    for i in range(graph.TensorsLength()):
        t = graph.Tensors(i)
        name = fbs.text(t.Name())
        out[name] = TensorDtype(name, _DTYPES.get(t.Type(), str(t.Type())),
                                t.Buffer() > 0 and fbs.buffer_bytes(data, model, t.Buffer()) > 0)
    return out


def io_dtypes(data: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    model = schema.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)

    def named(idx: int) -> tuple[str, str]:
        t = graph.Tensors(idx)
        return fbs.text(t.Name()), _DTYPES.get(t.Type(), str(t.Type()))

    return ([named(graph.Inputs(i)) for i in range(graph.InputsLength())],
            [named(graph.Outputs(i)) for i in range(graph.OutputsLength())])


def old_operator_codes(data: bytes) -> list[str]:
    """Ops whose code is only in the pre-2.3 `deprecated_builtin_code` field (builtin_code left 0)."""
    model = schema.Model.GetRootAs(data, 0)
    out = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        if code.BuiltinCode() == 0 and code.DeprecatedBuiltinCode() > 0:
            out.append(_BUILTINS.get(code.DeprecatedBuiltinCode(), str(code.DeprecatedBuiltinCode())))
    return out


def _why_nothing(parent: bytes, recipe: LqRecipe) -> str:
    old = old_operator_codes(parent)
    if old:
        return (f"the model keeps its operator codes in the old `deprecated_builtin_code` field only "
                f"({', '.join(sorted(set(old)))}; builtin_code is 0 = ADD), as TOCO-era converters wrote them; "
                f"litert-quantizer reads builtin_code only, so it sees every op as ADD and finds no weights. "
                f"Re-convert the model with a current LiteRT converter")
    floats = [t for t in tensor_dtypes(parent).values() if t.constant and t.dtype == "float32"]
    if not floats:
        return "the model has no float32 weight tensors (is it quantized already?)"
    return (f"none of its {len(floats)} float32 weight tensors is the weight of an op this recipe quantizes "
            f"(litert-quantizer's supported ops and weight-size limits)")


def count_quantized(parent: bytes, variant: bytes) -> tuple[dict[str, int], dict[str, int]]:
    before, after = tensor_dtypes(parent), tensor_dtypes(variant)
    weights: Counter[str] = Counter()
    activations: Counter[str] = Counter()
    for name, old in before.items():
        new = after.get(name)
        if new is not None and new.dtype != old.dtype and old.dtype == "float32":
            (weights if old.constant else activations)[new.dtype] += 1
    return dict(sorted(weights.items())), dict(sorted(activations.items()))


def _io_changes(parent: bytes, variant: bytes) -> tuple[str, ...]:
    out = []
    for side, before, after in zip(("input", "output"), io_dtypes(parent), io_dtypes(variant)):
        for (name, old), (_, new) in zip(before, after):
            if old != new:
                out.append(f"{side} {name}: {old} -> {new}")
    return tuple(out)


def _per_tensor(parent: bytes, variant: bytes, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """litert-quantizer's own per-tensor comparison (cosine, SNR, MSE), summarized; needs a signature."""
    from litert_quantizer import model_validator
    from litert_quantizer.utils import validation_utils

    from edgebench.optimize.agreement import interpreter

    signatures = interpreter(parent).get_signature_list()
    if not signatures:
        return {"available": False, "reason": "the model has no signature; litert-quantizer compares tensors "
                                              "per signature"}
    metrics = [validation_utils.ValidationErrorMetric.COSINE_SIMILARITY, validation_utils.ValidationErrorMetric.SNR,
               validation_utils.ValidationErrorMetric.MSE]
    try:
        with warnings.catch_warnings():  # LiteRT warns that preserving all tensors is for debugging: it is
            warnings.simplefilter("ignore")
            result = model_validator.compare_model(parent, variant, {next(iter(signatures)): inputs}, metrics,
                                                   num_threads=1)
    except Exception as exc:  # its interpreter setup raises many types; the output figures still stand
        return {"available": False, "reason": f"litert-quantizer's validation failed: {type(exc).__name__}: {exc}"}
    tensors = result.get_all_tensor_results()
    if not tensors:
        return {"available": False, "reason": "litert-quantizer compared no tensors"}
    # litert-quantizer's SNR is the power ratio mean(ref^2) / mse; shown in dB like ours.
    worst = min(tensors, key=lambda n: tensors[n]["snr"])
    ratio = tensors[worst]["snr"]
    return {"available": True, "tensors_compared": len(tensors), "worst_tensor": worst,
            "worst_snr_db": round(10 * math.log10(ratio), 3) if ratio > 0 else -math.inf,
            "worst_mse": tensors[worst]["mse"],
            "min_cosine": round(min(v["cosine_similarity"] for v in tensors.values()), 6)}


def quantize_tflite(parent: bytes, recipe: LqRecipe, calibration: Calibration | None) -> LqVariant:
    """Run `recipe` on `parent` and validate the result (see the module doc)."""
    from litert_quantizer import quantizer

    began = time.perf_counter()
    q = quantizer.Quantizer(bytearray(parent), list(recipe.recipe))
    calibration_result = None
    if q.need_calibration:
        if calibration is None:
            raise UsageError(f"recipe {recipe.name} quantizes activations and needs calibration data: "
                             f"--calibration auto|DIR|FILE.npz")
        from edgebench.optimize.agreement import interpreter

        signatures = interpreter(parent).get_signature_list()
        if not signatures:
            raise QuantizeError(f"recipe {recipe.name}: litert-quantizer calibrates per signature and the model "
                                f"has none; re-convert it with a signature")
        try:
            with warnings.catch_warnings():  # LiteRT's "preserve all tensors is for debugging" warning
                warnings.simplefilter("ignore")
                calibration_result = q.calibrate({next(iter(signatures)): list(calibration.samples)},
                                                 num_threads=1)
        except Exception as exc:
            raise QuantizeError(f"recipe {recipe.name}: calibration failed: {type(exc).__name__}: {exc}") from None
    try:
        with warnings.catch_warnings():  # static recipes: the same "preserve all tensors" warning
            warnings.simplefilter("ignore")
            result = q.quantize(calibration_result, enable_progress_bar=False, enable_progress_report=False)
    except Exception as exc:  # litert-quantizer raises ValueError/RuntimeError/KeyError for unsupported cases
        raise QuantizeError(f"recipe {recipe.name}: litert-quantizer could not quantize this model: "
                            f"{type(exc).__name__}: {exc}") from None
    data = bytes(result.quantized_model or b"")
    weights, activations = count_quantized(parent, data)
    if not recipe.expected_weight_dtypes & set(weights):
        raise NothingQuantizedError(
            f"recipe {recipe.name} quantized nothing: no weight tensor became "
            f"{' or '.join(sorted(recipe.expected_weight_dtypes)) or 'a quantized dtype'} "
            f"({len(parent)} -> {len(data)} bytes): {_why_nothing(parent, recipe)}")
    seconds = time.perf_counter() - began
    inputs = seeded_inputs(parent, samples=AGREEMENT_SAMPLES, seed=AGREEMENT_SEED)
    return LqVariant(data=data, recipe=recipe, weights_quantized=weights, activations_quantized=activations,
                     io_dtype_changes=_io_changes(parent, data), agreement=output_agreement(parent, data, inputs),
                     agreement_samples=AGREEMENT_SAMPLES, agreement_seed=AGREEMENT_SEED,
                     per_tensor=_per_tensor(parent, data, inputs), quantize_seconds=round(seconds, 3))

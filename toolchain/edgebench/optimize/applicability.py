"""Which optimization applies to which zoo model, and why not where it does not.

This table is the single source: spec validation refuses "no" cells, the transforms follow the
"partial" notes, the README shows `render_markdown()`, and tests/optimize hold all three to it
(every "yes"/"partial" cell yields a valid .tflite; every "no" cell raises NotApplicableError).
"""
from __future__ import annotations

from dataclasses import dataclass

from edgebench.errors import UsageError
from edgebench.optimize.lq_recipes import NAMES as LQ_NAMES
from edgebench.optimize.lq_recipes import PREFIX as LQ_PREFIX
from edgebench.optimize.recipes import Recipe

TECHNIQUES: dict[str, str] = {
    "prune": "magnitude pruning (`prune:S`)",
    "prune_2_4": "structured 2:4 pruning (`prune_2_4`)",
    "cluster": "weight clustering (`cluster:N`)",
    "qat": "quantization-aware training (`qat`, int8)",
    "dynamic_range": "post-training dynamic range (`dynamic_range`)",
    "float16": "post-training float16 (`float16`)",
    "int8": "post-training full int8 (`int8`, calibrated)",
}
MODELS = ("cnn_image", "resnet50", "cnn_text", "lstm_sentiment")
# litert-quantizer recipes (`lq:NAME`) on the trained model's fp32 .tflite; rows of their own so the
# TF-MOT matrix tests (tests/optimize/test_matrix.py) keep covering TECHNIQUES only.
LQ_TECHNIQUES: dict[str, str] = {f"{LQ_PREFIX}{name}": f"litert-quantizer `{LQ_PREFIX}{name}`" for name in LQ_NAMES}


class NotApplicableError(UsageError):
    """The optimization cannot be applied to this model (the reason is in the message)."""


@dataclass(frozen=True)
class Applicability:
    status: str  # yes | partial | no
    note: str = ""

    @property
    def applies(self) -> bool:
        return self.status != "no"

    def cell(self) -> str:
        return self.status + (f": {self.note}" if self.note else "")


YES = Applicability("yes")
_TOKENS = "token-id input stays int32"

CONVERSION_NOTE = (
    "Q is `dynamic_range`, `float16` or `int8`. Every variant is converted with builtin ops only (never "
    "Flex). `lstm_sentiment` converts through a concrete function with a fixed batch of 1; by default its "
    "LSTM is unrolled into plain ops (`--lstm unrolled`), because LiteRT 2.3's CompiledModel, which the "
    "harness uses, refuses the fused `UNIDIRECTIONAL_SEQUENCE_LSTM`'s variable state tensors; `--lstm fused` "
    "keeps the fused op for runtimes built on the classic Interpreter (e.g. benchmark_model).")

TABLE: dict[tuple[str, str], Applicability] = {
    **{(m, t): YES for m in ("cnn_image", "resnet50") for t in TECHNIQUES},
    ("resnet50", "qat"): Applicability("yes", "Conv2D + BatchNormalization folded by TF-MOT"),
    ("cnn_text", "prune"): YES,
    ("cnn_text", "prune_2_4"): Applicability(
        "no", "TF-MOT's 2:4 mask handles rank-2/rank-4 kernels only (Dense, Conv2D, LSTM); the Conv1D "
              "kernel is rank 3 and the Embedding is a lookup table, so only the classifier would be touched"),
    ("cnn_text", "cluster"): YES,
    ("cnn_text", "qat"): Applicability(
        "partial", "TF-MOT refuses Embedding and has no default Conv1D config: Conv1D gets an explicit "
                   "8-bit config, Dense the default; the Embedding trains in float and is calibrated after"),
    ("cnn_text", "dynamic_range"): YES,
    ("cnn_text", "float16"): YES,
    ("cnn_text", "int8"): Applicability("yes", _TOKENS),
    ("lstm_sentiment", "prune"): YES,
    ("lstm_sentiment", "prune_2_4"): Applicability(
        "partial", "LSTM kernels and the Dense classifier get 2:4 masks; the Embedding (a lookup table) stays dense"),
    ("lstm_sentiment", "cluster"): YES,
    ("lstm_sentiment", "qat"): Applicability(
        "no", "TF-MOT QAT covers neither LSTM nor Embedding layers; only the final Dense could be annotated"),
    ("lstm_sentiment", "dynamic_range"): YES,
    ("lstm_sentiment", "float16"): YES,
    ("lstm_sentiment", "int8"): Applicability("yes", _TOKENS),
}
_BLOCKWISE = ("partial", "fully connected and embedding weights only (litert-quantizer's blockwise policy); a layer "
                         "whose input width is not a multiple of the block size is refused, with litert-quantizer's "
                         "reason")
_LQ_STATIC_TOKENS = ("partial", "calibrated on training inputs; token-id input stays int32, outputs become quantized")
_LQ_STATIC = ("yes", "calibrated on training inputs; inputs and outputs become quantized")
TABLE.update({(m, t): Applicability(*(_BLOCKWISE if "blockwise" in t else
                                      (_LQ_STATIC_TOKENS if m in ("cnn_text", "lstm_sentiment") else _LQ_STATIC)
                                      if t.endswith("_static") else ("yes",)))
              for m in MODELS for t in LQ_TECHNIQUES})
for _t in ("lq:int8_static", "lq:int16x8_static"):
    TABLE[("lstm_sentiment", _t)] = Applicability(
        "no", "litert-quantizer's calibration fails on the unrolled LSTM (\"Tensor data is null. Run "
              "allocate_tensors() first\"), so no activation ranges can be measured")


def applicability(model: str, technique: str) -> Applicability:
    if technique not in TECHNIQUES and technique not in LQ_TECHNIQUES:
        raise UsageError(f"unknown technique {technique!r}; known: {', '.join([*TECHNIQUES, *LQ_TECHNIQUES])}")
    try:
        return TABLE[(model, technique)]
    except KeyError:
        raise UsageError(f"no applicability known for model {model!r}; known models: {', '.join(MODELS)}") from None


def check_recipe(model: str, recipe: Recipe) -> tuple[Applicability, ...]:
    """The cells `recipe` uses on `model`; NotApplicableError naming the reason if any is "no"."""
    cells = tuple(applicability(model, t) for t in recipe.techniques)
    for technique, cell in zip(recipe.techniques, cells):
        if not cell.applies:
            label = TECHNIQUES.get(technique) or LQ_TECHNIQUES[technique]
            raise NotApplicableError(f"{recipe.name} does not apply to {model}: {label}: {cell.note}")
    return cells


def render_markdown() -> str:
    """The README table: one row per technique, combination rows derived from their parts."""
    header = "| optimization | " + " | ".join(f"`{m}`" for m in MODELS) + " |"
    lines = [header, "|" + "---|" * (len(MODELS) + 1)]
    for technique, label in TECHNIQUES.items():
        lines.append(f"| {label} | " + " | ".join(TABLE[(m, technique)].cell() for m in MODELS) + " |")
    rank = {"yes": 0, "partial": 1, "no": 2}
    for transform, label in (("prune", "magnitude pruning + quantization (`prune:S+Q`)"),
                             ("prune_2_4", "2:4 pruning + quantization (`prune_2_4+Q`)"),
                             ("cluster", "clustering + quantization (`cluster:N+Q`)")):
        cells = []
        for m in MODELS:
            parts = [TABLE[(m, t)] for t in (transform, "dynamic_range", "float16", "int8")]
            worst = max(parts, key=lambda p: rank[p.status]).status
            cells.append("yes" if worst == "yes" else f"{worst}: as the `{transform}` row")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for technique, label in LQ_TECHNIQUES.items():
        lines.append(f"| {label} | " + " | ".join(TABLE[(m, technique)].cell() for m in MODELS) + " |")
    lines += ["", CONVERSION_NOTE]
    return "\n".join(lines)

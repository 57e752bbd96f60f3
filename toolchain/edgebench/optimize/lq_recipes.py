"""Named litert-quantizer recipes (`edgebench quantize --recipe NAME`, spec variants `lq:NAME`).

Each name maps to one litert-quantizer (ai-edge-quantizer) recipe over every supported op
(`regex ".*"`, operation `*`), min-max uniform quantization unless said otherwise:

| name | litert-quantizer | weights | activations | calibration |
|---|---|---|---|---|
| int8_dynamic | `recipe.dynamic_wi8_afp32()` | int8 per channel | float32 (int8 at run time) | no |
| int4_blockwise_32/64/128 | `add_dynamic_config(num_bits=4, granularity=BLOCKWISE_N)` | int4, blocks of N | float32 (dynamic) | no |
| int8_weight_only | `recipe.weight_only_wi8_afp32()` | int8 per channel, dequantized | float32 | no |
| int4_weight_only | `recipe.weight_only_wi4_afp32()` | int4 per channel, dequantized | float32 | no |
| int8_static | `recipe.static_wi8_ai8()` | int8 per channel | int8 (calibrated) | yes |
| int16x8_static | `recipe.static_wi8_ai16()` | int8 per channel | int16 (calibrated) | yes |
| fp16 | `add_weight_only_config(num_bits=16, algorithm_key=float_casting)` | float16, dequantized | float32 | no |

`expected_weight_dtypes` is what the recipe must leave in the file: a variant with no weight
tensor of those dtypes quantized did not apply (see lq_quantize's "nothing quantized" error).
A recipe file is any JSON recipe litert-quantizer loads (a list of {regex, operation,
algorithm_key, op_config}); its expected dtypes are read from its weight configs.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench.errors import UsageError

PREFIX = "lq:"


@dataclass(frozen=True)
class LqRecipe:
    name: str  # a NAMES key, or "file:<stem>" for a recipe file
    description: str
    recipe: tuple[dict[str, Any], ...]  # litert-quantizer's JSON recipe, canonical (enums as their values)
    expected_weight_dtypes: frozenset[str]  # lower-case schema names: int8, int4, float16
    static: bool  # activations quantized: inputs/outputs may change dtype, calibration needed

    @property
    def recipe_sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.recipe, sort_keys=True).encode()).hexdigest()


def _canonical(recipe: Any) -> tuple[dict[str, Any], ...]:
    """litert-quantizer's recipe with its str-enums turned into plain JSON values."""
    return tuple(json.loads(json.dumps(recipe, default=lambda v: getattr(v, "value", str(v)))))


def _weight_dtypes(recipe: tuple[dict[str, Any], ...]) -> frozenset[str]:
    out = set()
    for entry in recipe:
        weight = entry.get("op_config", {}).get("weight_tensor_config") or {}
        bits, kind = weight.get("num_bits"), str(weight.get("dtype", "INT")).upper()
        if bits and entry.get("algorithm_key") != "no_quantize":
            out.add(f"float{bits}" if kind == "FLOAT" else f"int{bits}")
    return frozenset(out)


def _is_static(recipe: tuple[dict[str, Any], ...]) -> bool:
    return any("activation_tensor_config" in e.get("op_config", {}) and
               str(e["op_config"].get("compute_precision", "")).upper() == "INTEGER" for e in recipe)


def _build(name: str) -> Any:
    from litert_quantizer import recipe, recipe_manager
    from litert_quantizer.qtyping import QuantGranularity, TFLOperationName

    if name == "int8_dynamic":
        return recipe.dynamic_wi8_afp32()
    if name.startswith("int4_blockwise_"):
        manager = recipe_manager.RecipeManager()
        granularity = QuantGranularity(f"BLOCKWISE_{name.rsplit('_', 1)[1]}")
        manager.add_dynamic_config(regex=".*", operation_name=TFLOperationName.ALL_SUPPORTED, num_bits=4,
                                   granularity=granularity)
        return manager.get_quantization_recipe()
    if name == "int8_weight_only":
        return recipe.weight_only_wi8_afp32()
    if name == "int4_weight_only":
        return recipe.weight_only_wi4_afp32()
    if name == "int8_static":
        return recipe.static_wi8_ai8()
    if name == "int16x8_static":
        return recipe.static_wi8_ai16()
    if name == "fp16":
        manager = recipe_manager.RecipeManager()
        manager.add_weight_only_config(regex=".*", operation_name=TFLOperationName.ALL_SUPPORTED, num_bits=16,
                                       algorithm_key="float_casting")
        return manager.get_quantization_recipe()
    raise AssertionError(name)  # pragma: no cover - NAMES and _build list the same names


NAMES: dict[str, str] = {
    "int8_dynamic": "dynamic range: int8 per-channel weights, float activations quantized at run time",
    "int4_blockwise_32": "dynamic: int4 weights in blocks of 32 (float16 scales), float activations",
    "int4_blockwise_64": "dynamic: int4 weights in blocks of 64 (float16 scales), float activations",
    "int4_blockwise_128": "dynamic: int4 weights in blocks of 128 (float16 scales), float activations",
    "int8_weight_only": "weight-only: int8 per-channel weights dequantized to float before each op",
    "int4_weight_only": "weight-only: int4 per-channel weights dequantized to float before each op",
    "int8_static": "static: int8 weights and int8 activations (calibrated); inputs/outputs become int8",
    "int16x8_static": "static: int8 weights and int16 activations (calibrated); inputs/outputs become int16",
    "fp16": "weight-only: float16 weights cast back to float32 before each op",
}


def named(name: str) -> LqRecipe:
    """The named recipe; UsageError listing the names for any other text."""
    bare = name.removeprefix(PREFIX).strip()
    if bare not in NAMES:
        raise UsageError(f"unknown litert-quantizer recipe {name!r}; named recipes: {', '.join(NAMES)} "
                         f"(or --recipe-file FILE with a litert-quantizer JSON recipe)")
    recipe = _canonical(_build(bare))
    return LqRecipe(bare, NAMES[bare], recipe, _weight_dtypes(recipe), _is_static(recipe))


def from_file(path: str | Path) -> LqRecipe:
    """A litert-quantizer JSON recipe file, checked by litert-quantizer's own recipe loader."""
    from litert_quantizer import recipe_manager

    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise UsageError(f"recipe file {p} does not exist") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"recipe file {p} is not JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data) or not data:
        raise UsageError(f"recipe file {p}: expected a non-empty JSON list of {{regex, operation, algorithm_key, "
                         f"op_config}} objects (litert-quantizer's recipe format), got {type(data).__name__}")
    try:
        recipe_manager.RecipeManager().load_quantization_recipe(data)
    except Exception as exc:  # litert-quantizer raises ValueError/KeyError/TypeError for bad entries
        raise UsageError(f"recipe file {p}: litert-quantizer refused it: {type(exc).__name__}: {exc}") from None
    recipe = _canonical(data)
    return LqRecipe(f"file:{p.stem}", f"recipe file {p.name}", recipe, _weight_dtypes(recipe), _is_static(recipe))

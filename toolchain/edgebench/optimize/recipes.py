"""Optimization recipes: one optional training-time transform, then one conversion precision.

Grammar (as written in specs and on the command line):

    recipe        := transform | quantization | transform "+" quantization
    transform     := "prune:" SPARSITY      magnitude pruning to SPARSITY in (0, 1), e.g. prune:0.5
                   | "prune_2_4"            structured 2:4 pruning (2 zeros in every 4 weights)
                   | "cluster:" N           weight clustering to N centroids per layer, 2..256
                   | "qat"                  quantization-aware training (always converted to int8)
    quantization  := "fp32" | "dynamic_range" | "float16" | "int8"
    lq            := "lq:" NAME             a litert-quantizer recipe (optimize/lq_recipes.py NAMES) applied
                                            to the trained model's fp32 .tflite, e.g. lq:int4_blockwise_32;
                                            a recipe of its own (no transform before it)

A transform alone converts to fp32 ("prune:0.5" == "prune:0.5+fp32"), except "qat", which is
int8 by definition. `Recipe.name` is the canonical spelling and part of artifact identity.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import UsageError
from edgebench.optimize.lq_recipes import NAMES as LQ_NAMES
from edgebench.optimize.lq_recipes import PREFIX as LQ_PREFIX

QUANTIZATIONS = ("fp32", "dynamic_range", "float16", "int8")
TRANSFORMS = ("prune", "prune_2_4", "cluster", "qat")
FORMS = ("fp32", "dynamic_range", "float16", "int8", "prune:<sparsity in (0,1)>", "prune_2_4",
         "cluster:<clusters 2..256>", "qat", "<transform>+<quantization>", "lq:<litert-quantizer recipe>")


class RecipeError(UsageError):
    """A recipe string that does not follow the grammar, or a combination that makes no sense."""


@dataclass(frozen=True)
class Transform:
    kind: str  # prune | prune_2_4 | cluster | qat
    sparsity: float | None = None  # prune
    clusters: int | None = None  # cluster

    @property
    def name(self) -> str:
        if self.kind == "prune":
            return f"prune:{self.sparsity:g}"
        if self.kind == "cluster":
            return f"cluster:{self.clusters}"
        return self.kind

    @classmethod
    def parse(cls, text: str) -> Transform:
        text = text.strip()
        if text in ("prune_2_4", "qat"):
            return cls(text)
        m = re.fullmatch(r"prune:([0-9]*\.?[0-9]+)", text)
        if m:
            sparsity = float(m.group(1))
            if not 0.0 < sparsity < 1.0:
                raise RecipeError(f"prune sparsity must be in (0, 1), got {text!r} (e.g. prune:0.5)")
            return cls("prune", sparsity=sparsity)
        m = re.fullmatch(r"cluster:([0-9]+)", text)
        if m:
            clusters = int(m.group(1))
            if not 2 <= clusters <= 256:
                raise RecipeError(f"cluster count must be in 2..256, got {text!r} (e.g. cluster:16)")
            return cls("cluster", clusters=clusters)
        raise RecipeError(f"unknown optimization {text!r}; allowed: {', '.join(FORMS)}")


@dataclass(frozen=True)
class Recipe:
    transform: Transform | None
    quantization: str  # one of QUANTIZATIONS, or lq:<name> (litert-quantizer on the fp32 .tflite)

    @property
    def name(self) -> str:
        if self.transform is None:
            return self.quantization
        if self.transform.kind == "qat" or self.quantization == "fp32":
            return self.transform.name
        return f"{self.transform.name}+{self.quantization}"

    @property
    def techniques(self) -> tuple[str, ...]:
        """The applicability-table rows this recipe uses (fp32 conversion is always possible)."""
        if self.quantization.startswith(LQ_PREFIX):
            return (self.quantization,)
        out = [self.transform.kind] if self.transform else []
        if self.quantization != "fp32" and not (self.transform and self.transform.kind == "qat"):
            out.append(self.quantization)
        return tuple(out)

    @classmethod
    def parse(cls, text: str) -> Recipe:
        if not isinstance(text, str) or not text.strip():
            raise RecipeError(f"an optimization must be a non-empty string; allowed: {', '.join(FORMS)}")
        if LQ_PREFIX in text:
            name = text.strip()
            if not name.startswith(LQ_PREFIX) or name.removeprefix(LQ_PREFIX) not in LQ_NAMES:
                raise RecipeError(f"{text!r}: litert-quantizer variants are lq:<name> alone (they quantize the "
                                  f"trained model's fp32 .tflite); names: {', '.join(LQ_NAMES)}")
            return cls(None, name)
        parts = [p.strip() for p in text.strip().split("+")]
        if len(parts) > 2:
            raise RecipeError(f"{text!r}: at most one transform and one quantization, joined by '+'")
        if len(parts) == 1:
            if parts[0] in QUANTIZATIONS:
                return cls(None, parts[0])
            t = Transform.parse(parts[0])
            return cls(t, "int8" if t.kind == "qat" else "fp32")
        t = Transform.parse(parts[0])
        q = parts[1]
        if q not in QUANTIZATIONS:
            raise RecipeError(f"{text!r}: {q!r} is not a quantization; allowed after '+': {', '.join(QUANTIZATIONS)}")
        if t.kind == "qat" and q != "int8":
            raise RecipeError(f"{text!r}: quantization-aware training produces an int8 model; "
                              f"allowed: qat or qat+int8")
        return cls(t, q)

    def __str__(self) -> str:
        return self.name

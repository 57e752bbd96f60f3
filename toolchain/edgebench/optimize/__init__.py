"""Optimization variants: recipes, the applicability table, TF-MOT transforms, conversion, host validation.

    from edgebench.optimize import Recipe, build_variant, transform_model, convert_model

Importing this package imports no TensorFlow (the pipeline functions are loaded on first use).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgebench.optimize.applicability import (TABLE, Applicability, NotApplicableError, applicability, check_recipe,
                                              render_markdown)
from edgebench.optimize.recipes import QUANTIZATIONS, Recipe, RecipeError, Transform

__all__ = ["QUANTIZATIONS", "TABLE", "Applicability", "NotApplicableError", "Recipe", "RecipeError", "Transform",
           "applicability", "build_variant", "check_recipe", "convert_model", "render_markdown", "transform_model"]

if TYPE_CHECKING:
    from edgebench.optimize.pipeline import build_variant, convert_model, transform_model


def __getattr__(name: str) -> Any:
    if name in ("build_variant", "convert_model", "transform_model"):
        from edgebench.optimize import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'edgebench.optimize' has no attribute {name!r}")

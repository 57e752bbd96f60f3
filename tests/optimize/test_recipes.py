"""Recipe grammar: canonical names, the techniques a recipe uses, and errors that list the allowed forms."""
from __future__ import annotations

import pytest

from edgebench.optimize import Recipe, RecipeError


@pytest.mark.parametrize("text, name, techniques", [
    ("fp32", "fp32", ()),
    ("int8", "int8", ("int8",)),
    ("prune:0.50", "prune:0.5", ("prune",)),
    ("prune:.8+fp32", "prune:0.8", ("prune",)),
    (" prune_2_4 + float16 ", "prune_2_4+float16", ("prune_2_4", "float16")),
    ("cluster:16+int8", "cluster:16+int8", ("cluster", "int8")),
    ("qat", "qat", ("qat",)),
    ("qat+int8", "qat", ("qat",)),
])
def test_parse_and_canonical_names(text: str, name: str, techniques: tuple) -> None:
    recipe = Recipe.parse(text)
    assert recipe.name == name and recipe.techniques == techniques
    assert Recipe.parse(recipe.name) == recipe  # the canonical name parses back to the same recipe


@pytest.mark.parametrize("text, message", [
    ("", "non-empty string"),
    ("prune", "unknown optimization 'prune'"),
    ("prune:1.0", "sparsity must be in (0, 1)"),
    ("prune:0", "sparsity must be in (0, 1)"),
    ("cluster:1", "cluster count must be in 2..256"),
    ("cluster:300", "cluster count must be in 2..256"),
    ("int8+prune:0.5", "unknown optimization 'int8'"),
    ("prune:0.5+int4", "'int4' is not a quantization"),
    ("qat+float16", "quantization-aware training produces an int8 model"),
    ("prune:0.5+cluster:8+int8", "at most one transform and one quantization"),
])
def test_bad_recipes(text: str, message: str) -> None:
    with pytest.raises(RecipeError) as info:
        Recipe.parse(text)
    assert message in str(info.value)
    if "unknown optimization" in message:
        assert "allowed: fp32, dynamic_range, float16, int8, prune:<sparsity in (0,1)>, prune_2_4" in str(info.value)


def test_litert_quantizer_variants_parse_alone() -> None:
    from edgebench.optimize.applicability import LQ_TECHNIQUES, TABLE, check_recipe, render_markdown

    r = Recipe.parse(" lq:int4_blockwise_32 ")
    assert (r.name, r.transform, r.techniques) == ("lq:int4_blockwise_32", None, ("lq:int4_blockwise_32",))
    assert check_recipe("cnn_image", r)[0].status == "partial"
    for bad in ("lq:int3", "prune:0.5+lq:int8_dynamic", "lq:"):
        with pytest.raises(RecipeError, match="lq:<name> alone"):
            Recipe.parse(bad)
    assert len(LQ_TECHNIQUES) == 9 and all((m, t) in TABLE for m in ("cnn_image", "lstm_sentiment") for t in LQ_TECHNIQUES)
    assert "| litert-quantizer `lq:int16x8_static` |" in render_markdown()

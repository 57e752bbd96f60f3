"""The applicability table: complete, consistent with the shipped specs, and the README shows it verbatim."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.optimize import NotApplicableError, Recipe, check_recipe, render_markdown
from edgebench.optimize.applicability import MODELS, TABLE, TECHNIQUES
from edgebench.spec import load_spec
from edgebench.zoo import ARCHITECTURES

REPO = Path(__file__).resolve().parents[2]
START, END = "<!-- edgebench:optimization-table -->", "<!-- /edgebench:optimization-table -->"


def test_every_model_and_technique_has_a_cell_with_a_reason_when_not_plain_yes() -> None:
    assert set(MODELS) == set(ARCHITECTURES)
    for m in MODELS:
        for t in TECHNIQUES:
            cell = TABLE[(m, t)]
            assert cell.status in ("yes", "partial", "no")
            if cell.status != "yes":
                assert len(cell.note) > 30, (m, t)  # "no"/"partial" always say why


def test_check_recipe_refuses_no_cells_with_their_reason() -> None:
    for (m, t), cell in TABLE.items():
        recipe = Recipe.parse({"prune": "prune:0.5", "cluster": "cluster:8"}.get(t, t))
        if cell.applies:
            assert check_recipe(m, recipe)
        else:
            with pytest.raises(NotApplicableError) as info:
                check_recipe(m, recipe)
            assert cell.note in str(info.value)


@pytest.mark.parametrize("name", MODELS)
def test_shipped_specs_try_every_applicable_technique(name: str) -> None:
    spec = load_spec(REPO / "models" / f"{name}.toml", "full")
    used = {t for v in spec.optimize.variants for t in Recipe.parse(v).techniques}
    applicable = {t for t in TECHNIQUES if TABLE[(name, t)].applies}
    assert {t for t in used if not t.startswith("lq:")} == applicable  # lq: rows are extra, not required


def test_readme_shows_the_table_verbatim() -> None:
    readme = (REPO / "README.md").read_text()
    assert START in readme and END in readme, (
        f"README.md must hold the optimization table between {START} and {END}: paste render_markdown()")
    shown = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == render_markdown().strip()

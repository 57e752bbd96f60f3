"""The whole applicability table, cell by cell, on tiny models of all four architectures (slow: ~3 min).

Every "yes"/"partial" cell (and combination with a quantization) must yield a valid .tflite whose
accuracy is recorded; every "no" cell must raise NotApplicableError with the table's reason.
"""
from __future__ import annotations


import pytest

from edgebench.optimize import NotApplicableError, Recipe, build_variant
from edgebench.optimize.applicability import MODELS, TABLE, TECHNIQUES
from edgebench.train import ArtifactStore, train_model
from tests.train.tiny import ALL_VARIANTS, tiny_spec

pytestmark = pytest.mark.slow
RECIPE_OF = {"prune": "prune:0.5", "prune_2_4": "prune_2_4", "cluster": "cluster:4", "qat": "qat",
             "dynamic_range": "dynamic_range", "float16": "float16", "int8": "int8"}


def test_tiny_specs_cover_every_applicable_cell() -> None:
    for m in MODELS:
        used = {t for v in ALL_VARIANTS[m] for t in Recipe.parse(v).techniques}
        assert used == {t for t in TECHNIQUES if TABLE[(m, t)].applies}, m
        combos = [Recipe.parse(v) for v in ALL_VARIANTS[m] if "+" in Recipe.parse(v).name]
        assert {r.transform.kind for r in combos} >= {t for t in ("prune", "cluster") if TABLE[(m, t)].applies}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("matrix")
    store = ArtifactStore(root / "artifacts")
    return {m: (store, train_model(tiny_spec(root, m), store=store)) for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_every_cell(trained: dict, model: str) -> None:
    store, record = trained[model]
    for variant in ALL_VARIANTS[model]:
        r = build_variant(record, variant, store=store)
        assert r.variant == Recipe.parse(variant).name
        assert r.path.is_file() and r.size_bytes == r.path.stat().st_size > 0
        assert 0.0 <= r.test_accuracy <= 1.0 and r.validation_samples > 0
        assert 0.0 <= r.agreement <= 1.0 and r.flops > 0 and r.operator_count > 0
        assert not any(op.startswith("Flex") for op in r.ops_by_type)
    for technique in TECHNIQUES:
        cell = TABLE[(model, technique)]
        if not cell.applies:
            with pytest.raises(NotApplicableError) as info:
                build_variant(record, RECIPE_OF[technique], store=store)
            assert cell.note in str(info.value)

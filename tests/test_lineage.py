"""Tracing references in the results store: what `edgebench results lineage` resolves and refuses."""
from __future__ import annotations

import pytest

from edgebench.api import open_store, push_and_run
from edgebench.errors import UsageError
from edgebench.lineage import render, trace

from .conftest import REAL_MODELS


def test_a_tflite_not_made_here_is_traced_to_its_runs_and_says_why_it_has_no_lineage(tmp_path, harness_cache,
                                                                                     monkeypatch):
    monkeypatch.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
    result = push_and_run([REAL_MODELS / "tflm_simple_add_model.tflite"], target="local", protocol="smoke", runs=10,
                          workspace=tmp_path)
    (record,) = result.records
    store = open_store(tmp_path)
    try:
        found = trace(store, record.run_id)
        assert [r.run_id for r in found.runs] == [record.run_id] and found.root is None
        assert "not made by edgebench train/optimize/convert" in found.missing
        assert record.run_id in render(found)
        by_model = trace(store, record.model_sha256[:12])
        assert [r.run_id for r in by_model.runs] == [record.run_id]
        with pytest.raises(UsageError, match="too short"):
            trace(store, "abc")
        with pytest.raises(UsageError, match="no run, .tflite or artifact id starts with 'ffffffffff'"):
            trace(store, "ffffffffff")
    finally:
        store.close()


def test_each_node_carries_how_it_was_made_from_its_parent(tmp_path):
    store = open_store(tmp_path)
    rows = [dict(artifact_id=i * 64, kind=k, architecture="cnn_image", label=k, record_json="{}", created_utc=None)
            for i, k in (("a", "hyperparameters"), ("b", "trained"), ("c", "converted"))]
    links = [dict(child_id="b" * 64, parent_id="a" * 64, relation="trained_with", detail="trial 3 of study S"),
             dict(child_id="c" * 64, parent_id="b" * 64, relation="converted_from", detail="int8")]
    try:
        store.save_lineage(rows, links)
        chain = trace(store, "c" * 10).chain()
        assert [(n.kind, n.via) for n in chain] == [("converted", ""), ("trained", "int8"),
                                                    ("hyperparameters", "trial 3 of study S")]
        assert "[trial 3 of study S]" in render(trace(store, "c" * 10))
    finally:
        store.close()

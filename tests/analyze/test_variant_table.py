"""The variant table of a study and of a session, built from a real SQLite results store written through
the store API (tests/analyze/variant_store.py lists every number used here)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from edgebench.analyze.variant_table import COLUMNS, PROPERTIES, find_study, session_table, study_table
from edgebench.errors import UsageError

from .variant_store import SHA, TRAINED, build_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    build_workspace(root)
    return root


@pytest.fixture(scope="module")
def table(workspace: Path) -> pd.DataFrame:
    return study_table(workspace / "studies" / "cnn_image-smoke-0123456789ab")


def _row(table: pd.DataFrame, row_id: str) -> SimpleNamespace:
    """The row as attributes (a Series would answer `.transform` with its method)."""
    (index,) = table.index[table["id"] == row_id]
    return SimpleNamespace(**{k.replace(".", "_"): v for k, v in table.loc[index].to_dict().items()})


def test_columns_are_the_contract_and_one_row_per_variant_device_config(table: pd.DataFrame) -> None:
    assert list(table.columns) == [*COLUMNS, "hp.activation", "hp.filters"]
    assert table["id"].tolist() == [
        "default/fp32 on Pixel 7", "default/fp32 on edgebench-virtual", "default/prune:0.5+int8 on Pixel 7",
        "default/prune:0.5+int8 on edgebench-virtual", "default/float16", "trial 3/fp32 on Pixel 7",
        "trial 3/fp32 on edgebench-virtual", "trial 4"]
    assert set(PROPERTIES) <= set(table.columns)
    assert PROPERTIES["accuracy"].maximize and not PROPERTIES["latency_ms"].maximize


def test_measurements_of_a_variant_on_a_phone(table: pd.DataFrame) -> None:
    a = _row(table, "default/fp32 on Pixel 7")
    assert (a.source, a.trained_id, a.variant, a.transform, a.quantization) == ("default", TRAINED, "fp32", "", "fp32")
    assert (a.device_model, a.device_kind, a.config, a.protocol) == ("Pixel 7", "phone", "cpu/1t", "standard")
    assert (a.status, a.valid, a.verdict_allowed, a.repeats_ok, a.repeats_total) == ("measured", True, True, 3, 3)
    assert a.latency_ms == pytest.approx(11.0)  # median of the repeat medians 10, 12, 11 ms
    assert a.latency_p90_ms == pytest.approx(11.0 * 1.08)  # each repeat's p90 of (0.9, 0.95, 1, 1.05, 1.1) x median
    assert [len(r) for r in a.latency_repeats_ms] == [5, 5, 5]
    assert a.latency_repeats_ms[0] == pytest.approx([9.0, 10.0, 11.0, 9.5, 10.5])
    assert a.energy_mj == pytest.approx(2.2) and a.energy_samples_mj == pytest.approx([2.0, 2.4, 2.2])
    assert (a.energy_source, a.latency_source) == ("measured", "measured")
    assert (a.accuracy, a.accuracy_n, a.val_accuracy) == (0.91, 1000.0, 0.9)
    assert (a.size_bytes, a.gzip_size_bytes, a.peak_memory_kb, a.training_s) == (4000.0, 900.0, 5002.0, 100.0)
    assert a.run_ids == ["A-pixel-0", "A-pixel-1", "A-pixel-2"] and a.hp_filters == 16


def test_a_pruned_variant_counts_fine_tuning_and_an_invalid_run(table: pd.DataFrame) -> None:
    b = _row(table, "default/prune:0.5+int8 on Pixel 7")
    assert (b.transform, b.quantization, b.sparsity) == ("prune:0.5", "int8", 0.5)
    assert b.training_s == 120.0  # 100 s training + 20 s fine-tuning after pruning
    assert (b.status, b.valid, b.repeats_ok, b.repeats_total) == ("measured", False, 2, 3)
    assert b.latency_ms == pytest.approx(4.5) and len(b.latency_repeats_ms) == 2  # the invalid repeat left out
    assert math.isnan(b.energy_mj) and b.energy_samples_mj == [] and b.energy_source == "none"


def test_unknowns_are_nan_never_zero(table: pd.DataFrame) -> None:
    built_not = _row(table, "default/float16")
    assert built_not.status == "build_failed" and not built_not.valid and built_not.device_id is None
    for column in ("accuracy", "latency_ms", "latency_p90_ms", "energy_mj", "size_bytes", "gzip_size_bytes",
                   "peak_memory_kb", "training_s", "accuracy_n"):
        assert math.isnan(getattr(built_not, column)), column
    failed = _row(table, "trial 3/fp32 on edgebench-virtual")
    assert (failed.status, failed.repeats_ok, failed.repeats_total, failed.valid) == ("run_failed", 0, 1, False)
    assert math.isnan(failed.latency_ms) and math.isnan(failed.peak_memory_kb) and failed.latency_repeats_ms == []
    assert failed.accuracy == 0.80 and failed.training_s == 50.0  # facts of the model stay known
    trial = _row(table, "trial 4")  # a tuning trial that failed before training: no variant, its reason kept
    assert (trial.status, trial.variant, trial.transform, trial.quantization) == ("trial_failed", "", None, None)
    assert math.isnan(trial.val_accuracy) and trial.hp_filters == 4 and math.isnan(trial.training_s)
    virtual = _row(table, "default/fp32 on edgebench-virtual")
    assert (virtual.latency_source, virtual.verdict_allowed, virtual.protocol) == ("simulated", False, "smoke")


def test_a_study_is_found_by_folder_file_or_name_and_its_workspace_by_its_place(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEBENCH_WORKSPACE", str(tmp_path / "elsewhere"))  # not where the study is
    folder = workspace / "studies" / "cnn_image-smoke-0123456789ab"
    assert find_study(folder) == folder / "study.json" == find_study(folder / "study.json")
    assert find_study("cnn_image", workspace) == folder / "study.json"
    assert len(study_table(folder / "study.json")) == 8
    assert len(study_table("cnn_image-smoke", workspace=workspace)) == 8


def test_unknown_and_ambiguous_studies_name_what_exists(workspace: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no study 'mlp'.*studies there: cnn_image-smoke-0123456789ab"):
        study_table("mlp", workspace=workspace)
    with pytest.raises(UsageError, match=r"no study 'x'.*none \(run `edgebench study run SPEC` first\)"):
        study_table("x", workspace=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no study.json"):
        study_table(tmp_path / "empty")
    for name in ("cnn_a", "cnn_b"):
        (tmp_path / "studies" / name).mkdir(parents=True)
        (tmp_path / "studies" / name / "study.json").write_text('{"rows": []}')
    with pytest.raises(UsageError, match="'cnn' is ambiguous.*cnn_a, cnn_b"):
        study_table("cnn", workspace=tmp_path)


def test_a_study_whose_runs_are_not_in_the_store_says_which_workspace_is_needed(workspace: Path,
                                                                               tmp_path: Path) -> None:
    moved = tmp_path / "study.json"
    moved.write_text((workspace / "studies" / "cnn_image-smoke-0123456789ab" / "study.json").read_text())
    with pytest.raises(UsageError, match=r"names 11 stored run\(s\), but .* has no results.sqlite"):
        study_table(moved, workspace=tmp_path)
    data = json.loads(moved.read_text())
    data["rows"][0]["run_ids"].append("never-stored")
    moved.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"names run\(s\) never-stored that the results store .* lacks"):
        study_table(moved, workspace=workspace)
    moved.write_text("not json")
    with pytest.raises(UsageError, match="expected the study.json `edgebench study run` writes"):
        study_table(moved, workspace=workspace)


def test_session_table_labels_models_by_file_and_reads_their_lineage(workspace: Path) -> None:
    table = session_table("s1", workspace=workspace)
    assert table["id"].tolist() == ["A.tflite on Pixel 7", "A.tflite on edgebench-virtual", "B.tflite on Pixel 7",
                                    "B.tflite on edgebench-virtual", "C.tflite on Pixel 7",
                                    "C.tflite on edgebench-virtual"]
    b = _row(table, "B.tflite on Pixel 7")
    assert (b.source, b.variant, b.transform, b.quantization, b.tflite_sha256) == ("", "B.tflite", "prune:0.5",
                                                                                     "int8", SHA["B"])
    assert (b.accuracy, b.training_s, b.size_bytes, b.gzip_size_bytes) == (0.88, 120.0, 1200.0, 300.0)


def test_unknown_session_lists_the_sessions(workspace: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no session 's9' in .*results.sqlite; sessions there, newest first: s1"):
        session_table("s9", workspace=workspace)
    with pytest.raises(UsageError, match="has no results store"):
        session_table("s1", workspace=tmp_path)
    assert not (tmp_path / "results.sqlite").exists()  # looking did not create a store


def test_a_later_run_of_a_study_file_joins_the_study_on_its_device(tmp_path: Path) -> None:
    # The study measured on its target; a battery run of one variant on another device, later and in another
    # session, is part of the same variant's measurements (row per device), though study.json never names it.
    import dataclasses

    from edgebench.store import ResultsStore

    build_workspace(tmp_path)
    store = ResultsStore(tmp_path / "results.sqlite")
    try:
        store.add_session("s2", started_at_utc="2026-02-01T00:00:00", command="profile-battery", host="h", version="0")
        store.upsert_device("phone2", "phone", {"model": "Pixel 9"})
        (template,) = [r for r in store.runs("s1") if r.run_id == "A-pixel-0"]
        later = dataclasses.replace(template, run_id="A-phone2-0", run_key="A-phone2-0", session="s2",
                                    device_id="phone2", target="phone2")
        store.save_run(later, {}, [])
    finally:
        store.close()
    rows = study_table(tmp_path / "studies" / "cnn_image-smoke-0123456789ab")
    a = rows[rows["tflite_sha256"] == SHA["A"]]
    assert sorted(a["device_model"]) == ["Pixel 7", "Pixel 9", "edgebench-virtual"]
    assert a[a["device_model"] == "Pixel 9"]["run_ids"].tolist() == [["A-phone2-0"]]


def test_an_lq_variant_is_traced_through_its_fp32_parent_to_its_trained_model(tmp_path: Path) -> None:
    # lq:NAME variants are made from the fp32 .tflite (a converted artifact), not from a Keras model.
    from edgebench.analyze.variant_rows import facts_from_lineage, recipe_parts
    from edgebench.store import ResultsStore

    from .variant_store import _artifact

    transform, quantization, sparsity = recipe_parts("lq:int4_blockwise_32")
    assert (transform, quantization) == ("", "lq:int4_blockwise_32") and math.isnan(sparsity)
    lq = "d" * 64
    store = ResultsStore(tmp_path / "results.sqlite")
    try:
        store.save_lineage([
            _artifact(TRAINED, "trained", {"hyperparameters": {"filters": 16}, "train_seconds": 100.0,
                                           "val_accuracy": 0.9}),
            _artifact(SHA["A"], "converted", {"variant": "fp32", "parent_id": TRAINED, "trained_id": TRAINED,
                                              "hyperparameters": {"filters": 16}, "test_accuracy": 0.91,
                                              "validation_samples": 100, "gzip_size_bytes": 900}),
            _artifact(lq, "converted", {"variant": "lq:int4_blockwise_32", "parent_id": SHA["A"],
                                        "trained_id": TRAINED, "hyperparameters": {"filters": 16},
                                        "test_accuracy": 0.9, "validation_samples": 100, "gzip_size_bytes": 400}),
        ], [dict(child_id=SHA["A"], parent_id=TRAINED, relation="converted_from", detail="fp32"),
            dict(child_id=lq, parent_id=SHA["A"], relation="converted_from", detail="lq:int4_blockwise_32")])
        facts = facts_from_lineage(store, lq, None)
    finally:
        store.close()
    assert facts.variant == "lq:int4_blockwise_32" and facts.trained_id == TRAINED
    assert facts.val_accuracy == 0.9 and facts.training_s == 100.0 and facts.gzip_size_bytes == 400

"""Performance-model rows from the results store, end to end on the project's own measurements: real models
pushed and run on the local target (real harness, real LiteRT, real SQLite) at 1 and 2 threads and two CPU
masks with the smoke protocol, then `store_table` (through `resolve_source`, as the CLI calls it)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from edgebench.api import push_and_run
from edgebench.errors import UsageError
from edgebench.perfmodel.features import model_features
from edgebench.perfmodel.sources import resolve_source
from edgebench.perfmodel.store_table import store_table
from edgebench.records import Check, EnergyResult, Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats
from edgebench.store import LatencySample, ResultsStore

from ..analyze.variant_store import _energy
from ..conftest import FIXTURES, REAL_MODELS

HELLO_FLOAT = "tflm_hello_world_float.tflite"
HELLO_INT8 = "tflm_hello_world_int8.tflite"
ADD = "tflm_simple_add_model.tflite"
BROKEN = "broken.tflite"  # not a model: its runs fail, and its rows are left out
MASKS = ("1", "3")

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two CPU masks need two CPUs")


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> tuple[Path, str, Path]:
    """(workspace, session, models folder): 4 models × threads 1, 2 × masks 1, 3, one smoke repeat each."""
    models = tmp_path_factory.mktemp("models")
    for name in (HELLO_FLOAT, HELLO_INT8, ADD):
        shutil.copy(REAL_MODELS / name, models / name)
    (models / BROKEN).write_text("this is not a model\n")
    ws = tmp_path_factory.mktemp("perf") / "ws"
    paths = [models / n for n in (HELLO_FLOAT, HELLO_INT8, ADD, BROKEN)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
        mp.delenv("EDGEBENCH_STORE", raising=False)
        first = push_and_run(paths, target="local", protocol="smoke", threads=(1, 2), cpu_mask=MASKS[0], workspace=ws)
        push_and_run(paths, target="local", protocol="smoke", threads=(1, 2), cpu_mask=MASKS[1], resume=first.session,
                     workspace=ws)
    return ws, first.session, models


def test_a_session_gives_one_row_per_model_config_with_its_features(measured):
    ws, session, models = measured
    table = resolve_source(f"session={session}", options=None, measure=None, workspace=ws)
    assert table.measure == "latency_median_ms" and table.provenance == "measured"
    assert table.rows == 3 * 2 * 2  # broken.tflite failed everywhere: left out
    assert "left out 4 of 16 row(s) without an ok run: 4 run_failed" in table.notes
    assert any("smoke protocol" in n for n in table.notes)
    names = {HELLO_FLOAT: models / HELLO_FLOAT, HELLO_INT8: models / HELLO_INT8, ADD: models / ADD}
    assert len(table.device_ids) == 1 and table.device_ids[0]
    seen = set()
    for i, row_id in enumerate(table.ids):
        model, _, rest = row_id.partition(" @ ")
        config = rest.rsplit(" / ", 1)[1]  # cpu/<threads>t@<mask>
        threads, mask = int(config.split("/")[1].split("t@")[0]), config.split("@")[1]
        seen.add((model, threads, mask))
        row = table.frame.iloc[i]
        assert row["threads"] == threads
        assert row["cpu_mask.cpus"] == bin(int(mask, 16)).count("1") and row["cpu_mask.bit1"] == int(mask == "3")
        expected = model_features(names[model])
        assert row["flops"] == expected["flops"] and row["params"] == expected["params"]
        assert row["quant.full_int8"] == expected["quant.full_int8"]
        assert row["op_count.ADD"] == expected.get("op_count.ADD", 0.0)
        assert row["latency_median_ms"] > 0
    assert seen == {(m, t, k) for m in names for t in (1, 2) for k in MASKS}
    # Constant over this table (one device, cpu only, always pinned): dropped and said; sparsity is unknown for
    # the weightless ADD model, so it is left out rather than set to 0.
    assert not {"accel.cpu", "cpu_mask.pinned", "sparsity"} & set(table.options)
    assert any("constant feature(s)" in n and "accel.cpu" in n for n in table.notes)
    assert any("sparsity (4 row(s))" in n for n in table.notes)


def test_named_options_and_the_p90_measure(measured):
    ws, session, _ = measured
    table = store_table({"session": session}, options=["threads", "cpu_mask.cpus", "flops"],
                        measure="latency_p90_ms", workspace=ws)
    assert table.options == ("threads", "cpu_mask.cpus", "flops") and list(table.frame.columns) == [
        "threads", "cpu_mask.cpus", "flops", "latency_p90_ms"]
    median = store_table({"session": session}, options=["threads"], workspace=ws)
    assert (table.y() >= median.y()).all()  # each row's p90 is at least its median


def test_a_device_by_id_prefix_or_model_name_spans_its_sessions(measured):
    ws, session, _ = measured
    by_session = store_table({"session": session}, workspace=ws)
    device_id = by_session.device_ids[0]
    by_prefix = store_table({"device": device_id[:8]}, workspace=ws)
    assert sorted(by_prefix.ids) == sorted(by_session.ids)
    model_name = by_session.ids[0].split(" @ ")[1].rsplit(" / ", 1)[0]
    by_model = store_table({"session": session, "device": model_name.upper()}, workspace=ws)
    assert sorted(by_model.ids) == sorted(by_session.ids)
    with pytest.raises(UsageError, match=rf"no device 'nokia-3310'.*devices there: {device_id}"):
        store_table({"device": "nokia-3310"}, workspace=ws)


def test_unknown_selector_values_option_names_and_measures_say_what_there_is(measured):
    ws, session, _ = measured
    with pytest.raises(UsageError, match=rf"no session 'nope'.*sessions there.*{session}"):
        resolve_source("session=nope", options=None, measure=None, workspace=ws)
    with pytest.raises(UsageError, match="no study 'nope'"):
        resolve_source("study=nope", options=None, measure=None, workspace=ws)
    with pytest.raises(UsageError, match=r"no feature 'cores'; the features are: .*threads"):
        resolve_source(f"session={session}", options=["threads", "cores"], measure=None, workspace=ws)
    with pytest.raises(UsageError, match=r"'sparsity' is unknown for 4 row\(s\)"):
        store_table({"session": session}, options=["sparsity"], workspace=ws)
    with pytest.raises(UsageError, match="no row has an ok measurement of energy_mj"):
        store_table({"session": session}, measure="energy_mj", workspace=ws)
    with pytest.raises(UsageError, match="measure 'latency_ms'.*latency_median_ms"):
        store_table({"session": session}, measure="latency_ms", workspace=ws)
    with pytest.raises(UsageError, match="a session or a study, not both"):
        store_table({"session": session, "study": "x"}, workspace=ws)


def test_a_model_file_gone_is_found_in_the_artifact_store_or_named_with_its_sha(tmp_path, harness_cache, monkeypatch):
    monkeypatch.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
    monkeypatch.delenv("EDGEBENCH_STORE", raising=False)
    models = tmp_path / "models"
    models.mkdir()
    for name in (HELLO_FLOAT, ADD):
        shutil.copy(REAL_MODELS / name, models / name)
    ws = tmp_path / "ws"
    session = push_and_run([models / HELLO_FLOAT, models / ADD], target="local", protocol="smoke", runs=5,
                           warmup=1, workspace=ws).session
    assert store_table({"session": session}, options=["flops"], workspace=ws).rows == 2
    sha = hashlib.sha256((models / ADD).read_bytes()).hexdigest()
    (models / ADD).write_bytes(b"changed since it ran")
    with pytest.raises(UsageError, match=rf"model {ADD} \(sha256 {sha}\): no file with these bytes at "
                                         rf"{models / ADD} .* artifact store at {ws / 'artifacts' / 'converted' / sha}"):
        store_table({"session": session}, options=["flops"], workspace=ws)
    (models / ADD).unlink()
    with pytest.raises(UsageError, match=rf"sha256 {sha}"):
        store_table({"session": session}, options=["flops"], workspace=ws)
    kept = ws / "artifacts" / "converted" / sha
    kept.mkdir(parents=True)
    shutil.copy(REAL_MODELS / ADD, kept / f"add-fp32-{sha[:8]}.tflite")
    table = store_table({"session": session}, options=["flops"], workspace=ws)
    assert sorted(table.frame["flops"]) == sorted([576.0, 16384.0])


def _energy_store(root: Path) -> None:
    """Two models on a phone (measured energy) and on a virtual device (simulated energy), session s1."""
    store = ResultsStore(root / "results.sqlite")
    try:
        store.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
        store.upsert_device("phone", "phone", {"model": "Pixel 7", "abi": "arm64-v8a"})
        store.upsert_device("virt", "virtual", {"model": "edgebench-virtual", "abi": "arm64-v8a"})
        for name in (HELLO_FLOAT, ADD):
            data = (REAL_MODELS / name).read_bytes()
            store.upsert_variant(hashlib.sha256(data).hexdigest(), name, len(data), {"path": str(REAL_MODELS / name)})
        for device, kind, source in (("phone", "phone", "measured"), ("virt", "virtual", "simulated")):
            for name, ms, mj in ((HELLO_FLOAT, 1.0, 0.5), (ADD, 3.0, 1.5)):
                data = (REAL_MODELS / name).read_bytes()
                record = RunRecord(
                    run_id=f"{name}-{device}", run_key=f"{name}-{device}", session="s1", model=name,
                    model_sha256=hashlib.sha256(data).hexdigest(), model_size_bytes=len(data), target=device,
                    device_id=device, config=RunConfig(1, "cpu"), protocol="standard", repeat=0, status="ok",
                    checks=(Check("thermal", "pass"),),
                    provenance=Provenance(kind, energy_source=source),  # type: ignore[arg-type]
                    latency=latency_stats([ms * 1000] * 5), started_at_utc="2026-01-01T00:00:01")
                energy = EnergyResult(**{**vars(_energy(mj)), "energy_source": source})
                store.save_run(record, {}, [LatencySample("timed", i, ms * 1000, None) for i in range(5)],
                               energy=energy)
    finally:
        store.close()


def test_simulated_energy_never_shares_a_table_with_measured_energy(tmp_path):
    _energy_store(tmp_path)
    with pytest.raises(UsageError, match="2 row.* measured energy and 2 simulated.*never mixes"):
        store_table({"session": "s1"}, measure="energy_mj", workspace=tmp_path)
    phone = store_table({"session": "s1", "device": "phone"}, measure="energy_mj", workspace=tmp_path)
    virtual = store_table({"session": "s1", "device": "virt"}, measure="energy_mj", workspace=tmp_path)
    assert (phone.provenance, virtual.provenance) == ("measured", "simulated")
    assert sorted(phone.y()) == sorted(virtual.y()) == [0.5, 1.5]
    latency = store_table({"session": "s1"}, options=["flops", "device.Pixel_7"], workspace=tmp_path)
    assert latency.provenance == "simulated" and any("virtual device" in n for n in latency.notes)


def test_a_study_by_name_gives_its_variants_rows(measured):
    """A study.json as `edgebench study run` writes it (rows naming a .tflite and its runs), here over the
    measured session's runs: study= takes the folder's name or its unique beginning."""
    ws, session, models = measured
    store = ResultsStore(ws / "results.sqlite")
    runs = store.runs(session)
    store.close()
    rows = []
    for name in (HELLO_FLOAT, ADD):
        sha = hashlib.sha256((models / name).read_bytes()).hexdigest()
        rows.append({"source": "default", "variant": name.removesuffix(".tflite"), "tflite_sha256": sha,
                     "run_ids": [r.run_id for r in runs if r.model_sha256 == sha], "status": "measured"})
    folder = ws / "studies" / "mini-smoke-0123456789ab"
    folder.mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps({"rows": rows}))
    table = store_table({"study": "mini"}, options=["threads", "cpu_mask.cpus", "flops"], workspace=ws)
    assert table.rows == 2 * 2 * 2 and table.source == "study=mini"
    assert sorted(set(table.frame["flops"])) == [576.0, 16384.0]
    assert store_table({"study": str(folder)}, options=["flops"], workspace=ws).ids == table.ids


def test_input_elements_are_the_shapes_that_ran_not_the_files_placeholder(tmp_path, harness_cache, monkeypatch):
    """A dynamic-input model (placeholder 1x1x1x3) run at 1x8x8x3 and at 1x16x16x3: each session's row has the
    input size that ran; one device row holding both says so rather than picking one."""
    monkeypatch.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
    monkeypatch.delenv("EDGEBENCH_STORE", raising=False)
    dynamic = FIXTURES / "models" / "eb_dynamic_image_conv.tflite"
    ws = tmp_path / "ws"
    sessions = [push_and_run([dynamic, REAL_MODELS / ADD], target="local", protocol="smoke", runs=5, warmup=1,
                             input_shapes=[f"image=1,{side},{side},3"], workspace=ws).session for side in (8, 16)]
    assert model_features(dynamic)["input_elements"] == 3.0
    for session, elements in zip(sessions, (192.0, 768.0)):
        table = store_table({"session": session}, options=["input_elements", "flops"], workspace=ws)
        by_id = dict(zip(table.ids, table.frame["input_elements"]))
        assert by_id[f"eb_dynamic_image_conv.tflite @ {table.ids[0].split(' @ ')[1]}"] == elements
        assert any("eb_dynamic_image_conv.tflite: ran at other input shapes" in n for n in table.notes)
    device = store_table({"device": table.device_ids[0]}, options=["flops"], workspace=ws)
    assert any("eb_dynamic_image_conv.tflite on " in n and "several input shapes" in n for n in device.notes)

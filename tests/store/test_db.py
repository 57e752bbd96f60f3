import dataclasses
import json
import sqlite3

import pytest
from sqlalchemy import create_engine
from sqlalchemy import inspect as sa_inspect

from edgebench.errors import StoreError
from edgebench.records import Check, InputShape, LatencyStats, Provenance, RunConfig, RunRecord
from edgebench.store import DeviceSample, LatencySample, ResultsStore


def _record(run_id="r1", key="k1", status="ok", session="s1", error=None):
    return RunRecord(
        run_id=run_id, run_key=key, session=session, model="m.tflite", model_sha256="a" * 64,
        model_size_bytes=10, target="local", device_id="host:x", config=RunConfig(1, "cpu"),
        protocol="smoke", repeat=0, status=status,
        checks=(Check("schema", "pass"), Check("shortened", "fail", "runs 10 below 50", advisory=True)),
        provenance=Provenance("local"),
        latency=LatencyStats(3, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 2.0, 1.0) if status != "failed" else None,
        init_ms=1.5, started_at_utc="2026-01-01T00:00:00", error=error)


# The contract: tests that take `store` (or `store_url`) run against every backend of conftest.py unchanged.
@pytest.fixture
def store(store_url):
    s = ResultsStore(store_url("results"))
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.upsert_device("host:x", "local", {"model": "cpu"})
    s.upsert_variant("a" * 64, "m.tflite", 10, {})
    yield s
    s.close()


def test_run_round_trips_with_checks_summary_and_samples(store):
    samples = [LatencySample("timed", i, float(i + 1), 1000 * i) for i in range(3)]
    store.save_run(_record(), {"preset": "smoke"}, samples, [DeviceSample(5, "/sys/x", "42")])
    (back,) = store.runs("s1")
    assert back.latency.median_us == 2.0 and back.init_ms == 1.5
    assert {c.name: c.outcome for c in back.checks} == {"schema": "pass", "shortened": "fail"}
    assert [c.advisory for c in back.checks if c.name == "shortened"] == [True]
    assert [s.latency_us for s in store.latency_samples("r1")] == [1.0, 2.0, 3.0]
    assert store.stored_run_statuses("s1") == {"k1": "ok"}
    assert back.to_json()["simulated"] is False


def test_failed_write_leaves_no_half_run(store):
    bad_sample = [DeviceSample(5, None, "42")]  # NOT NULL violation after the run row was inserted
    with pytest.raises(Exception):  # noqa: B017 - whatever the backend's driver raises
        store.save_run(_record(), {}, [LatencySample("timed", 0, 1.0, 0)], bad_sample)
    assert store.runs("s1") == []
    assert list(store.table_rows("latency_samples")) == []
    assert list(store.table_rows("checks")) == []


def test_resumed_failed_run_is_replaced_and_the_attempt_kept(store):
    store.save_run(_record(status="failed", error="device vanished"), {})
    store.save_run(_record(run_id="r1", status="ok"), {})
    (back,) = store.runs("s1")
    assert back.status == "ok"
    (attempt,) = store.table_rows("run_attempts")
    assert attempt["error"] == "device vanished"


def test_a_failed_run_written_twice_is_one_attempt_not_two(store):
    """Two writers of one outbox entry (a second process flushing it too), or a retried commit: the same
    failed attempt is stored once and no phantom earlier attempt appears; a real redo still keeps it."""
    failed = dataclasses.replace(_record(status="failed", error="device vanished"), started_at_utc="2026-01-01T00:00:01Z")
    first = store.save_run(failed, {})
    again = store.save_run(failed, {})
    assert first.written and not again.written and again.record.run_id == failed.run_id
    assert [r.status for r in store.runs("s1")] == ["failed"] and list(store.table_rows("run_attempts")) == []
    redo = dataclasses.replace(failed, started_at_utc="2026-01-01T00:05:00Z", error="device vanished again")
    assert store.save_run(redo, {}).written
    assert [a["error"] for a in store.table_rows("run_attempts")] == ["device vanished"]


def test_a_finished_run_is_never_overwritten_and_the_stored_one_is_returned(store):
    store.save_run(_record(), {}, [LatencySample("timed", 0, 5.0, 0)])
    saved = store.save_run(_record(run_id="r2", error="measured again"), {}, [LatencySample("timed", 0, 9.0, 0)])
    assert saved.written is False and saved.record.run_id == "r1" and saved.record.error is None
    assert [r.run_id for r in store.runs()] == ["r1"]
    assert [s.latency_us for s in store.latency_samples("r1")] == [5.0] and store.latency_samples("r2") == []


def _sql(url, *statements):
    """Edit a store behind edgebench's back (to make old or half-migrated ones), on any backend."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _query(url, statement):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(statement)]
    finally:
        engine.dispose()


def _everything(url):
    """Every table's name, columns and rows."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa_inspect(conn)
            return {name: ([c["name"] for c in inspector.get_columns(name)],
                           sorted((tuple(r) for r in conn.exec_driver_sql(f'SELECT * FROM "{name}"')), key=repr))
                    for name in inspector.get_table_names()}
    finally:
        engine.dispose()


@pytest.mark.parametrize("stored, what_to_do", [("999", "written by a newer edgebench: upgrade"),
                                                ("2", "migrates versions 3 and 4 only")])
def test_other_schema_version_is_refused_naming_both_and_what_to_do_and_nothing_changes(store_url, stored,
                                                                                     what_to_do):
    url = store_url("other")
    s = ResultsStore(url)
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.close()
    _sql(url, f"UPDATE meta SET value='{stored}' WHERE key='schema_version'")
    before = _everything(url)
    with pytest.raises(StoreError, match=f"schema version {stored}; this edgebench reads version 5") as refused:
        ResultsStore(url)
    assert what_to_do in str(refused.value) and "not changed" in str(refused.value)
    assert _everything(url) == before


def test_a_database_with_another_applications_tables_is_refused_untouched(store_url):
    url = store_url("foreign")
    _sql(url, "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(StoreError, match=r"no edgebench schema version .* \(runs\): it belongs to something else"):
        ResultsStore(url)
    assert list(_everything(url)) == ["runs"]


def test_tables_left_by_an_interrupted_creation_are_completed(store_url):
    url = store_url("half")
    ResultsStore(url).close()
    _sql(url, "DROP TABLE meta", "DROP TABLE run_attempts")
    ResultsStore(url).close()
    assert _query(url, "SELECT value FROM meta WHERE key = 'schema_version'") == [("5",)]
    assert "run_attempts" in _everything(url)


# SQLite's own: the file's bytes.
def test_other_schema_version_is_refused_and_file_untouched(tmp_path):
    path = tmp_path / "old.sqlite"
    ResultsStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 999"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_latest_session(store):
    store.add_session("s2", started_at_utc="2026-02-01T00:00:00", command="t", host="h", version="0")
    assert store.latest_session() == "s2"


def test_version_3_store_is_migrated_in_place_keeping_every_run(store_url):
    path = store_url("v3")
    s = ResultsStore(path)
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.upsert_device("host:x", "local", {})
    s.upsert_variant("a" * 64, "m.tflite", 10, {})
    s.save_run(_record(), {"name": "smoke"})
    s.close()
    # What version 3 had: no lineage tables, no energy.rails_json, no runs.input_shapes_json.
    _sql(path, "DROP TABLE artifact_links", "DROP TABLE artifacts", "ALTER TABLE energy DROP COLUMN rails_json",
         "ALTER TABLE runs DROP COLUMN input_shapes_json", "UPDATE meta SET value='3' WHERE key='schema_version'")
    s = ResultsStore(path)
    try:
        assert [r.run_id for r in s.runs()] == ["r1"]
        assert {row["key"]: row["value"] for row in s.table_rows("meta")}["schema_version"] == "5"
        s.save_lineage([dict(artifact_id="b" * 64, kind="hyperparameters", architecture="cnn_image", label="x",
                             record_json="{}", created_utc=None)], [])
        assert s.artifact("b" * 64)["label"] == "x"
    finally:
        s.close()


def test_lineage_rows_are_added_once_and_links_keep_every_recipe(store):
    a = dict(artifact_id="c" * 64, kind="trained", architecture="cnn_image", label="cnn_image", record_json="{}",
             created_utc=None)
    b = dict(artifact_id="a" * 64, kind="converted", architecture="cnn_image", label="int8", record_json="{}",
             created_utc=None)
    store.save_lineage([a, b], [dict(child_id=b["artifact_id"], parent_id=a["artifact_id"],
                                     relation="converted_from", detail="int8")])
    # The same bytes made again by another recipe: one artifact row, a second link.
    store.save_lineage([a, dict(b, label="prune:0.5+int8")],
                       [dict(child_id=b["artifact_id"], parent_id=a["artifact_id"], relation="converted_from",
                             detail="prune:0.5+int8")])
    assert store.artifact("a" * 64)["label"] == "int8"
    assert [p["detail"] for p in store.artifact_parents("a" * 64)] == ["int8", "prune:0.5+int8"]
    assert store.find_ids("aaaaaa") == [("artifact", "a" * 64)]
    store.save_run(_record(), {"name": "smoke"})
    assert store.find_ids("r1") == [("run", "r1")]


def test_a_migration_interrupted_after_its_schema_change_completes_on_the_next_open(store_url):
    path = store_url("half")
    ResultsStore(path).close()
    # Left by an edgebench that let SQLite commit DDL at once: the column landed, the version did not.
    _sql(path, "UPDATE meta SET value='3' WHERE key='schema_version'")
    ResultsStore(path).close()
    assert _query(path, "SELECT value FROM meta WHERE key='schema_version'") == [("5",)]


def test_input_shapes_round_trip(store):
    shapes = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),
              InputShape("mask", (1, 4), (1, 4), "model"))
    store.save_run(dataclasses.replace(_record(), input_shapes=shapes), {})
    (back,) = store.runs("s1")
    assert back.input_shapes == shapes


def _as_version_4(url):
    """What a version-4 store looks like: no runs.input_shapes_json."""
    _sql(url, "ALTER TABLE runs DROP COLUMN input_shapes_json", "UPDATE meta SET value='4' WHERE key='schema_version'")


def test_version_4_store_is_migrated_in_place_keeping_every_run(store_url):
    path = store_url("v4")
    s = ResultsStore(path)
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.upsert_device("host:x", "local", {})
    s.upsert_variant("a" * 64, "m.tflite", 10, {})
    s.save_run(_record(), {"name": "smoke"})
    s.close()
    _as_version_4(path)
    s = ResultsStore(path)
    try:
        (old,) = s.runs()
        assert old.run_id == "r1" and old.input_shapes == ()  # shapes of old runs are unknown: NULL, not made up
        assert s.table_rows("runs")[0]["input_shapes_json"] is None
        assert {row["key"]: row["value"] for row in s.table_rows("meta")}["schema_version"] == "5"
        shapes = (InputShape("image", (-1, -1, -1, 3), (1, 8, 8, 3), "given"),)
        s.save_run(dataclasses.replace(_record(run_id="r2", key="k2"), input_shapes=shapes), {})
        assert [r.input_shapes for r in s.runs()] == [(), shapes]
    finally:
        s.close()


def test_an_interrupted_4_to_5_migration_completes_on_the_next_open(store_url):
    path = store_url("half5")
    ResultsStore(path).close()
    _sql(path, "UPDATE meta SET value='4' WHERE key='schema_version'")  # the column landed, the version did not
    ResultsStore(path).close()
    assert _query(path, "SELECT value FROM meta WHERE key='schema_version'") == [("5",)]
    assert "input_shapes_json" in _everything(path)["runs"][0]


@dataclasses.dataclass(frozen=True)
class _Json:
    data: dict

    def to_json(self):
        return self.data


def test_energy_is_stored_from_a_typed_record_in_the_same_columns(store):
    from edgebench.records import EnergyResult

    energy = EnergyResult(
        energy_source="simulated", idle_pre_power_mw=100.0, idle_post_power_mw=110.0, idle_power_mw=105.0,
        active_power_mw=905.0, measured_seconds=20.0, inferences=400, energy_per_inference_mj=40.0,
        gross_energy_per_inference_mj=45.25, charge_counter_energy_mj=None, current_integral_energy_mj=18100.0,
        calibration=_Json({"scale_to_ua": 1000, "discharge_sign": 1}), power_path="usb suspended",
        device_changes=_Json({"airplane_set": True, "set": [], "refused": []}),
        rails=_Json({"source": "odpm", "available": False, "reason": "no rails"}))
    store.save_run(_record(), {"battery": {}}, energy=energy)
    row = store.energy_rows(["r1"])["r1"]
    assert row["energy_source"] == "simulated" and row["inferences"] == 400
    assert row["active_power_mw"] == 905.0 and row["charge_counter_energy_mj"] is None
    assert json.loads(row["calibration_json"]) == {"scale_to_ua": 1000, "discharge_sign": 1}
    assert json.loads(row["device_changes_json"]) == {"airplane_set": True, "set": [], "refused": []}
    assert json.loads(row["rails_json"])["reason"] == "no rails" and row["power_path"] == "usb suspended"
    store.save_run(_record(run_id="r2", key="k2"), {}, energy=dataclasses.replace(energy, rails=None))
    assert store.energy_rows(["r2"])["r2"]["rails_json"] is None


def test_analysis_queries_runs_by_ids_timed_samples_devices_and_sessions(store):
    samples = [LatencySample("warmup", 0, 99.0, None)] + [LatencySample("timed", i, float(i + 1), None)
                                                           for i in range(3)]
    store.save_run(_record(), {}, samples)
    store.save_run(_record(run_id="r2", key="k2"), {}, [])
    store.add_session("s0", started_at_utc="2025-01-01T00:00:00", command="test", host="h", version="0")
    wanted = ["r2", "r1", "r1"] + [f"missing{i}" for i in range(1200)]  # more ids than one bound-parameter batch
    assert sorted(r.run_id for r in store.runs_by_ids(wanted)) == ["r1", "r2"]
    assert store.timed_latencies_us(wanted) == {"r1": [1.0, 2.0, 3.0]}  # warm-up left out, r2 has none
    assert store.devices(["host:x", "nope"])["host:x"]["model"] == "cpu" and len(store.devices(["nope"])) == 0
    assert store.session_names() == ["s1", "s0"]
def test_long_text_from_devices_and_users_is_kept_whole_on_every_backend(store):
    """PostgreSQL enforces VARCHAR lengths (SQLite does not): a vendor string, a long file name, a deep
    sysfs path or a runtime's wording must not make one backend refuse a run the other keeps."""
    vendor = "Vendor " + "x" * 300
    store.upsert_device("host:long", "adb", {"manufacturer": vendor, "model": vendor, "soc": vendor,
                                             "abi": "arm64-v8a" * 10, "os_version": vendor})
    name = "m" * 250 + "-ünïcödé.tflite"  # 255 bytes is a file name's limit, not 255 characters
    store.upsert_variant("b" * 64, name, 10, {})
    record = dataclasses.replace(_record(), device_id="host:long", model_sha256="b" * 64, model=name,
                                 target="tcp:" + "t" * 300, accelerator_used="gpu (fell back: " + "y" * 40 + ")",
                                 runtime_api_generation="CompiledModel " + "z" * 30)
    channel = "/sys/devices/platform/" + "soc:qcom,pmic_glink/" * 15 + "current_now"
    store.save_run(record, {}, device_samples=[DeviceSample(5, channel, "42")])
    (back,) = store.runs("s1")
    assert (back.model, back.target, back.accelerator_used, back.runtime_api_generation) == (
        name, record.target, record.accelerator_used, record.runtime_api_generation)
    assert [s.channel for s in store.device_samples("r1")] == [channel]
    (device,) = [d for d in store.table_rows("devices") if d["device_id"] == "host:long"]
    assert device["model"] == vendor and device["abi"] == "arm64-v8a" * 10

import dataclasses
import json
import sqlite3

import pytest

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


def test_finished_run_is_never_overwritten(store):
    store.save_run(_record(), {})
    with pytest.raises(StoreError, match="already stored"):
        store.save_run(_record(run_id="r2"), {})


# SQLite's own: these edit the file with sqlite3 to make old or half-migrated stores.
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


def test_version_3_store_is_migrated_in_place_keeping_every_run(tmp_path):
    path = tmp_path / "v3.sqlite"
    s = ResultsStore(path)
    s.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    s.upsert_device("host:x", "local", {})
    s.upsert_variant("a" * 64, "m.tflite", 10, {})
    s.save_run(_record(), {"name": "smoke"})
    s.close()
    con = sqlite3.connect(path)  # what version 3 had: no lineage tables, no energy.rails_json
    con.executescript("DROP TABLE artifact_links; DROP TABLE artifacts; ALTER TABLE energy DROP COLUMN rails_json;"
                      "ALTER TABLE runs DROP COLUMN input_shapes_json;"
                      "UPDATE meta SET value='3' WHERE key='schema_version';")
    con.close()
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


def test_a_migration_interrupted_after_its_schema_change_completes_on_the_next_open(tmp_path):
    path = tmp_path / "half.sqlite"
    ResultsStore(path).close()
    con = sqlite3.connect(path)  # SQLite commits DDL at once: the column landed, the version did not
    con.executescript("UPDATE meta SET value='3' WHERE key='schema_version';")
    con.close()
    s = ResultsStore(path)
    s.close()
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("5",)


def test_input_shapes_round_trip(store):
    shapes = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),
              InputShape("mask", (1, 4), (1, 4), "model"))
    store.save_run(dataclasses.replace(_record(), input_shapes=shapes), {})
    (back,) = store.runs("s1")
    assert back.input_shapes == shapes


def _as_version_4(path):
    """What a version-4 store looks like: no runs.input_shapes_json."""
    con = sqlite3.connect(path)
    con.executescript("ALTER TABLE runs DROP COLUMN input_shapes_json;"
                      "UPDATE meta SET value='4' WHERE key='schema_version';")
    con.close()


def test_version_4_store_is_migrated_in_place_keeping_every_run(tmp_path):
    path = tmp_path / "v4.sqlite"
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


def test_an_interrupted_4_to_5_migration_completes_on_the_next_open(tmp_path):
    path = tmp_path / "half5.sqlite"
    ResultsStore(path).close()
    con = sqlite3.connect(path)  # the column landed (DDL commits at once), the version did not
    con.executescript("UPDATE meta SET value='4' WHERE key='schema_version';")
    con.close()
    ResultsStore(path).close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("5",)
    assert "input_shapes_json" in [row[1] for row in con.execute("PRAGMA table_info(runs)")]


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

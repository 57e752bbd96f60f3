"""`perfmodel suggest --device D` without --source: the source is every other device's rows in the results
store (a real store with runs of three devices; each device's table is a generated one, as store_table
would give it)."""
from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest

from edgebench.cli.main import main
from edgebench.errors import UsageError
from edgebench.perfmodel import device_source
from edgebench.perfmodel.device_source import other_devices_source, stored_devices
from edgebench.records import LatencyStats, Provenance, RunConfig, RunRecord
from edgebench.store import ResultsStore
from edgebench.workspace import Workspace
from tests.perfmodel.generated import factorial_frame, table

DEVICES = {"adb:aaa111": ("Pixel 6", "SERIALA"), "adb:bbb222": ("Pixel 7", "SERIALB"),
           "adb:ccc333": ("Pixel 9", "SERIALC")}


@pytest.fixture
def store_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("EDGEBENCH_STORE", raising=False)
    ws = tmp_path / "ws"
    ws.mkdir()
    store = ResultsStore(Workspace(ws).results_store)
    store.add_session("s1", started_at_utc="2026-01-01T00:00:00", command="test", host="h", version="0")
    store.upsert_variant("a" * 64, "m.tflite", 10, {})
    for number, (device_id, (model, serial)) in enumerate(DEVICES.items()):
        store.upsert_device(device_id, "phone", {"model": model})
        store.save_run(RunRecord(
            run_id=f"r{number}", run_key=f"k{number}", session="s1", model="m.tflite", model_sha256="a" * 64,
            model_size_bytes=10, target=serial, device_id=device_id, config=RunConfig(1, "cpu"), protocol="smoke",
            repeat=0, status="ok", checks=(), provenance=Provenance("local"),
            latency=LatencyStats(3, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 2.0, 1.0), init_ms=1.0,
            started_at_utc="2026-01-01T00:00:00"), {"preset": "smoke"})
    store.close()
    return ws


def fake_store_table(calls: list[str]):
    """Each device's table as store_table would give it: generated rows, a note."""
    def resolve(text: str, *, options, measure, workspace, keep_constant=False):
        calls.append(text)
        frame = factorial_frame(seed=len(calls), noise_sd=0.3).rename(columns={"y": measure})
        t = table(frame, text, options=tuple(options) if options else ("a", "b", "c", "noise1"), measure=measure)
        return dataclasses.replace(t, notes=("left out 1 row(s) without an ok run",))
    return resolve


@pytest.mark.parametrize("new_device", ["SERIALC", "Pixel 9", "adb:ccc333", "adb:ccc"])
def test_the_other_devices_rows_are_the_source(store_workspace, new_device):
    calls: list[str] = []
    source = other_devices_source(new_device, options=None, measure=None, workspace=store_workspace,
                                  resolve=fake_store_table(calls))
    assert calls == ["device=adb:aaa111", "device=adb:bbb222"]
    assert source.rows == 2 * 72 and source.measure == "latency_median_ms"
    assert "left out the rows of adb:ccc333" in source.notes[-1]
    assert any(n.startswith("device=adb:aaa111: left out 1 row") for n in source.notes)


def test_an_option_constant_on_each_device_but_not_across_them_is_kept(store_workspace):
    # One device ran only at 1 thread, the other only at 2: per device `threads` is constant, over both it varies.
    asked: list[bool] = []

    def resolve(text, *, options, measure, workspace, keep_constant=False):
        asked.append(keep_constant)
        frame = factorial_frame(noise_sd=0.3).rename(columns={"y": measure})
        frame["threads"] = 1.0 if text.endswith("aaa111") else 2.0
        frame["accel.cpu"] = 1.0  # constant everywhere: dropped, and said
        return table(frame, text, options=("a", "b", "threads", "accel.cpu"), measure=measure)

    source = other_devices_source("SERIALC", options=None, measure=None, workspace=store_workspace, resolve=resolve)
    assert asked == [True, True]
    assert source.options == ("a", "b", "threads")
    assert sorted(set(source.frame["threads"])) == [1.0, 2.0]
    assert any("constant over every device's rows: accel.cpu" in n for n in source.notes)


def test_a_device_never_measured_learns_from_every_stored_device(store_workspace):
    assert [d.targets for d in stored_devices(store_workspace)] == [("SERIALA",), ("SERIALB",), ("SERIALC",)]
    calls: list[str] = []
    other_devices_source("emulator-5554", options=["a", "b"], measure="latency_median_ms",
                         workspace=store_workspace, resolve=fake_store_table(calls))
    assert len(calls) == 3


def test_no_store_is_an_error(tmp_path):
    with pytest.raises(UsageError, match="has no results store"):
        other_devices_source("SERIALC", options=None, measure=None, workspace=tmp_path / "empty",
                             resolve=fake_store_table([]))


def test_no_other_device_is_an_error(store_workspace):
    with sqlite3.connect(store_workspace / "results.sqlite") as conn:
        conn.execute("DELETE FROM runs WHERE device_id != 'adb:aaa111'")
    with pytest.raises(UsageError, match=r"no device other than 'Pixel 6' \(devices with runs: adb:aaa111 \(Pixel 6\)\)"):
        other_devices_source("Pixel 6", options=None, measure=None, workspace=store_workspace,
                             resolve=fake_store_table([]))


def test_suggest_device_spelling_through_the_cli(store_workspace, capsys, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(device_source, "resolve_source", fake_store_table(calls))
    assert main(["--workspace", str(store_workspace), "perfmodel", "suggest", "--device", "SERIALC", "--budget",
                 "4", "--json"]) == 0
    captured = capsys.readouterr()
    plan = json.loads(captured.out)
    assert plan["device"] == "SERIALC" and len(plan["configurations"]) == 4
    assert plan["source"].startswith("store rows of every device but SERIALC (adb:aaa111, adb:bbb222)")
    assert "left out the rows of adb:ccc333" in captured.err

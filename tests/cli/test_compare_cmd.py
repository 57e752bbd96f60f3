"""`edgebench compare` over a real SQLite results store written through the store API (no device runs):
resolution of A and B, every refusal, ambiguous names, the JSON shape."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgebench.cli.main import main
from edgebench.records import Check, EnergyResult, Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats
from edgebench.store import LatencySample, ResultsStore

SHA_FP32, SHA_INT8 = "f" * 64, "1" * 64
SESSION = "s-2026"


@dataclass(frozen=True)
class _Json:
    value: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.value


class Writer:
    """Stores runs of made-up measurements: repeat medians drift around `median_ms`, samples lognormal."""

    def __init__(self, path: Path) -> None:
        self.store = ResultsStore(path / "results.sqlite")
        self.rng = np.random.default_rng(0)
        self.count = 0
        self.store.upsert_device("pixel-a", "phone", {"model": "Pixel 7"})
        self.store.upsert_device("pixel-b", "phone", {"model": "Pixel 7"})
        self.store.upsert_device("galaxy", "phone", {"model": "SM-S901B"})
        self.store.upsert_device("vdev", "virtual", {"model": "Pixel 7"})
        self.store.upsert_variant(SHA_FP32, "net_fp32.tflite", 1000, {})
        self.store.upsert_variant(SHA_INT8, "net_int8.tflite", 300, {})
        self.session(SESSION, "2026-01-01T00:00:00")

    def session(self, name: str, started: str) -> None:
        self.store.add_session(name, started_at_utc=started, command="test", host="h", version="0")

    def measure(self, median_ms: float, *, sha: str = SHA_FP32, threads: int = 1, device: str = "pixel-a",
                repeats: int = 3, protocol: str = "standard", session: str = SESSION, status: str = "ok",
                checks: tuple[Check, ...] = (), energy: list[float] | None = None, energy_source: str = "measured",
                kind: str = "phone") -> list[str]:
        ids = []
        model = "net_fp32.tflite" if sha == SHA_FP32 else "net_int8.tflite"
        for repeat in range(repeats):
            self.count += 1
            run_id = f"run{self.count:04d}abcdef"
            repeat_median_us = median_ms * 1000 * np.exp(self.rng.normal(0, 0.005))
            samples = repeat_median_us * np.exp(self.rng.normal(0, 0.05, 200))
            record = RunRecord(
                run_id=run_id, run_key=f"key{self.count}", session=session, model=model, model_sha256=sha,
                model_size_bytes=1000, target=device, device_id=device, config=RunConfig(threads, "cpu"),
                protocol=protocol, repeat=repeat, status=status,  # type: ignore[arg-type]
                checks=checks or (Check("thermal", "pass"),),
                provenance=Provenance(kind, "measured",  # type: ignore[arg-type]
                                      energy_source if energy else "none"),  # type: ignore[arg-type]
                latency=latency_stats(list(samples)), started_at_utc=f"2026-01-01T00:{self.count:02d}:00")
            stored_energy = None
            if energy:
                stored_energy = EnergyResult(
                    energy_source=energy_source, idle_pre_power_mw=100, idle_post_power_mw=100,  # type: ignore[arg-type]
                    idle_power_mw=100, active_power_mw=900, measured_seconds=300, inferences=1000,
                    energy_per_inference_mj=energy[repeat], gross_energy_per_inference_mj=energy[repeat] * 1.1,
                    charge_counter_energy_mj=None, current_integral_energy_mj=1.0, calibration=_Json({}),
                    power_path="suspend-input", device_changes=_Json({}))
            self.store.save_run(record, {"preset": protocol},
                                [LatencySample("timed", i, float(v), None) for i, v in enumerate(samples)],
                                energy=stored_energy)
            ids.append(run_id)
        return ids


@pytest.fixture()
def ws(tmp_path: Path) -> Writer:
    writer = Writer(tmp_path)
    yield writer
    writer.store.close()


def _compare(ws: Writer, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["compare", *argv, "--workspace", str(Path(ws.store.url.removeprefix("sqlite:///")).parent),
                 "--json", "--draws", "400"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_variants_by_name_give_a_verdict_with_level_ci_and_repeats_needed(ws: Writer, capsys) -> None:
    ws.measure(10.0)
    ws.measure(8.0, sha=SHA_INT8)
    code, out = _compare(ws, "net_fp32.tflite", "net_int8.tflite", capsys=capsys)
    assert code == 0 and out["refused"] is None
    c = out["comparison"]
    assert c["verdict"] == "faster" and c["confidence"] == 0.95 and c["unit"] == "ms"
    assert c["ratio"] == pytest.approx(0.8, rel=0.02) and c["ratio_ci"][1] < 1
    assert c["repeats_a"] == 3 and isinstance(c["repeats_needed"], int)
    assert out["a"]["model"] == "net_fp32.tflite" and out["b"]["model_sha256"] == SHA_INT8
    assert out["session"] == SESSION and len(out["a"]["run_ids"]) == 3


def test_text_output_states_level_ci_verdict_and_repeats(ws: Writer, capsys) -> None:
    ws.measure(10.0)
    ws.measure(12.0, sha=SHA_INT8)
    root = str(Path(ws.store.url.removeprefix("sqlite:///")).parent)
    assert main(["compare", SHA_FP32[:8], SHA_INT8[:8], "--workspace", root, "--confidence", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "90 % CI [" in out and "verdict: B is slower" in out and "repeats needed per side" in out


def test_configs_and_devices_and_run_ids_resolve(ws: Writer, capsys) -> None:
    one = ws.measure(10.0, threads=1)
    ws.measure(6.0, threads=4)
    ws.measure(10.0, device="pixel-b")
    code, out = _compare(ws, "cpu/1t", "cpu/4t", capsys=capsys)
    assert code == 0 and out["comparison"]["verdict"] == "faster"
    assert out["a"]["device_id"] == "pixel-a"  # pixel-b has no cpu/4t: the pair is unique
    code, out = _compare(ws, "pixel-a", "pixel-b", "--session", SESSION, capsys=capsys)
    assert code == 0 and out["a"]["config"] == "cpu/1t"  # two configs on pixel-a, one on pixel-b -> cpu/1t
    assert out["b"]["device_id"] == "pixel-b" and out["comparison"]["verdict"] == "no detectable difference"
    code, out = _compare(ws, one[1], "cpu/4t", capsys=capsys)  # a run id stands for its whole measurement
    assert code == 0 and out["a"]["run_ids"] == one


def test_ambiguous_selection_lists_the_candidates(ws: Writer, capsys) -> None:
    ws.measure(10.0, threads=1)
    ws.measure(8.0, threads=1, sha=SHA_INT8)
    ws.measure(6.0, threads=4)
    ws.measure(5.0, threads=4, sha=SHA_INT8)
    assert main(["compare", "cpu/1t", "cpu/4t", "--workspace",
                 str(Path(ws.store.url.removeprefix("sqlite:///")).parent)]) == 2
    err = capsys.readouterr().err
    assert "2 pairs of measurements match" in err
    assert "net_fp32.tflite" in err and "net_int8.tflite" in err


def test_unknown_name_says_what_is_known(ws: Writer, capsys) -> None:
    ws.measure(10.0)
    assert main(["compare", "nope.tflite", "cpu/1t", "--workspace",
                 str(Path(ws.store.url.removeprefix("sqlite:///")).parent)]) == 2
    err = capsys.readouterr().err
    assert "'nope.tflite' names no run id" in err and "net_fp32.tflite" in err and "cpu/1t" in err


def test_latest_session_is_the_default(ws: Writer, capsys) -> None:
    ws.measure(10.0)
    ws.measure(10.0, sha=SHA_INT8)
    ws.session("s-later", "2026-02-01T00:00:00")
    ws.measure(20.0, session="s-later")
    ws.measure(10.0, sha=SHA_INT8, session="s-later")
    code, out = _compare(ws, "net_fp32.tflite", "net_int8.tflite", capsys=capsys)
    assert out["session"] == "s-later" and out["comparison"]["verdict"] == "faster"
    code, out = _compare(ws, "net_fp32.tflite", "net_int8.tflite", "--session", SESSION, capsys=capsys)
    assert out["session"] == SESSION and out["comparison"]["verdict"] == "no detectable difference"


@pytest.mark.parametrize(("b_kwargs", "reason"), [
    ({"protocol": "smoke"}, "B is a protocol 'smoke' measurement: no verdicts"),
    ({"checks": (Check("shortened", "fail", "runs 10 below 200", advisory=True),)}, "B is a shortened measurement"),
    ({"status": "invalid", "checks": (Check("thermal", "fail", "throttled at 45 C"),)},
     "B has invalid runs (run0004abcdef, run0005abcdef, run0006abcdef: throttled at 45 C)"),
    ({"device": "galaxy"}, "different device models (Pixel 7 vs SM-S901B)"),
    ({"device": "vdev", "kind": "virtual"}, "simulated against measured latency"),
    ({"repeats": 1}, "B has 1 ok repeat(s)"),
])
def test_refusals_say_why(ws: Writer, capsys, b_kwargs: dict[str, Any], reason: str) -> None:
    ws.measure(10.0)
    ws.measure(8.0, sha=SHA_INT8, **b_kwargs)
    code, out = _compare(ws, "net_fp32.tflite", "net_int8.tflite", capsys=capsys)
    assert code == 1
    assert reason in out["refused"] and out["comparison"] is None


def test_energy_compares_runs_and_refuses_simulated_against_measured(ws: Writer, capsys) -> None:
    ws.measure(10.0, repeats=5, energy=[5.0, 5.1, 4.9, 5.05, 4.95])
    ws.measure(8.0, sha=SHA_INT8, repeats=5, energy=[4.0, 4.1, 3.9, 4.05, 3.95])
    code, out = _compare(ws, "net_fp32.tflite", "net_int8.tflite", "--metric", "energy", capsys=capsys)
    assert code == 0, out
    c = out["comparison"]
    assert c["metric"] == "energy" and c["unit"] == "mJ" and c["verdict"] == "less energy"
    assert c["median_a"] == pytest.approx(5.0) and c["repeats_a"] == 5
    ws.measure(6.0, threads=2, repeats=5, energy=[4.0, 4.1, 3.9, 4.05, 3.95], energy_source="simulated")
    code, out = _compare(ws, "cpu/1t", "cpu/2t", "--metric", "energy", capsys=capsys)
    assert code == 1 and "simulated against measured energy" in out["refused"]


def test_energy_without_battery_runs_is_refused(ws: Writer, capsys) -> None:
    ws.measure(10.0)
    ws.measure(8.0, sha=SHA_INT8)
    code, out = _compare(ws, "net_fp32.tflite", "net_int8.tflite", "--metric", "energy", capsys=capsys)
    assert code == 1 and "no energy figures" in out["refused"] and "profile-battery" in out["refused"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--session", "nope"], "no session 'nope' in the results store"),
    (["--confidence", "1.5"], "--confidence"),
    (["--draws", "10"], "--draws 10: expected at least 100"),
])
def test_bad_options_are_usage_errors(ws: Writer, capsys, argv: list[str], message: str) -> None:
    ws.measure(10.0)
    ws.measure(8.0, sha=SHA_INT8)
    root = str(Path(ws.store.url.removeprefix("sqlite:///")).parent)
    assert main(["compare", "net_fp32.tflite", "net_int8.tflite", "--workspace", root, *argv]) == 2
    assert message in capsys.readouterr().err


def test_the_same_measurement_twice_is_an_error(ws: Writer, capsys) -> None:
    ids = ws.measure(10.0)
    root = str(Path(ws.store.url.removeprefix("sqlite:///")).parent)
    assert main(["compare", ids[0], ids[1], "--workspace", root]) == 2
    assert "name the same measurement" in capsys.readouterr().err


def test_an_empty_store_says_to_measure_first(tmp_path: Path, capsys) -> None:
    assert main(["compare", "a", "b", "--workspace", str(tmp_path / "empty")]) == 2
    assert "no session yet" in capsys.readouterr().err


def test_pairing_ignores_the_protocol_and_refuses_on_it(ws: Writer, capsys) -> None:
    # cpu/1t holds two models; only int8 also ran at cpu/2t (a smoke run): that is the pair, refused.
    ws.measure(10.0)
    ws.measure(9.7, sha=SHA_INT8)
    ws.measure(9.0, sha=SHA_INT8, protocol="smoke", threads=2)
    code, out = _compare(ws, "cpu/1t", "cpu/2t", capsys=capsys)
    assert code == 1 and out["a"]["model"] == "net_int8.tflite" and "protocol 'smoke'" in out["refused"]

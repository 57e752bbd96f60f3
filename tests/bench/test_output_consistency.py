"""Output checksums compared across the runs of a session (issue #11 A3)."""
from __future__ import annotations

import json
from dataclasses import replace

from edgebench.bench.execute import RunOutcome
from edgebench.bench.output_consistency import output_checks, with_output_checks
from edgebench.cli.main import main
from edgebench.records import Check, Provenance, RunConfig, RunRecord

from ..conftest import REAL_MODELS


def _record(run_id: str, checksum: str | None, threads: int = 1, repeat: int = 0, **changes) -> RunRecord:
    base = RunRecord(run_id=run_id, run_key=run_id * 4, session="s1", model="m.tflite", model_sha256="aa" * 32,
                     model_size_bytes=10, target="emulator-5554", device_id="dev1",
                     config=RunConfig(threads, "cpu"), protocol="smoke", repeat=repeat, status="ok",
                     checks=(Check("schema", "pass"),), provenance=Provenance("phone"), output_checksum=checksum,
                     harness_build_id="h1", runtime_sha256="11" * 32)
    return replace(base, **changes)


def _by_name(checks):
    return {c.name: c for c in checks}


def test_a_repeat_with_other_output_bytes_is_invalid_with_both_checksums():
    earlier = [_record("r0", "0123456789abcdef", repeat=0)]
    outcome = with_output_checks(RunOutcome(_record("r1", "fedcba9876543210", repeat=1), (), ()), earlier)
    assert outcome.record.status == "invalid"
    check = _by_name(outcome.record.checks)["output_consistency"]
    assert check.outcome == "fail" and not check.advisory
    assert "fedcba9876543210" in check.reason and "0123456789abcdef in run r0 (cpu/1t, repeat 0)" in check.reason


def test_same_bytes_pass_and_the_first_run_has_nothing_to_compare_with():
    first = _by_name(output_checks(_record("r0", "ab"), []))
    assert first["output_consistency"].outcome == "not_checked"
    assert "no earlier run" in first["output_consistency"].reason
    second = _by_name(output_checks(_record("r1", "ab", repeat=1), [_record("r0", "ab")]))
    assert second["output_consistency"].outcome == "pass"


def test_other_thread_counts_are_advisory():
    """XNNPACK may split float reductions differently with more threads: recorded, never invalidating."""
    outcome = with_output_checks(RunOutcome(_record("r2", "02", threads=2), (), ()), [_record("r0", "01")])
    checks = _by_name(outcome.record.checks)
    assert checks["output_consistency_threads"].outcome == "fail" and checks["output_consistency_threads"].advisory
    assert "02" in checks["output_consistency_threads"].reason and "01 in run r0 (cpu/1t" in checks[
        "output_consistency_threads"].reason
    assert checks["output_consistency"].outcome == "not_checked"  # no repeat of cpu/2t yet
    assert outcome.record.status == "ok"


def test_other_devices_runtimes_sessions_and_failed_runs_are_not_compared():
    record = _record("r9", "99", repeat=1)
    others = [_record("a", "01", device_id="dev2"), _record("b", "01", runtime_sha256="22" * 32),
              _record("c", "01", session="s0"), _record("d", None, status="failed"),
              _record("e", "01", model_sha256="bb" * 32), _record("f", "01", config=RunConfig(1, "gpu"))]
    checks = _by_name(output_checks(record, others))
    assert checks["output_consistency"].outcome == "not_checked"
    assert checks["output_consistency_threads"].outcome == "not_checked"


def test_a_null_checksum_is_not_checked_with_the_reason():
    outcome = with_output_checks(RunOutcome(_record("r1", None, repeat=1), (), ()), [_record("r0", "ab")])
    check = _by_name(outcome.record.checks)["output_consistency"]
    assert check.outcome == "not_checked" and "checksum null" in check.reason and outcome.record.status == "ok"


def test_push_and_run_stores_the_comparison_on_each_run(workspace, capsys):
    model = REAL_MODELS / "tflm_hello_world_float.tflite"
    code = main(["push-and-run", str(model), "--protocol", "smoke", "--runs", "5", "--threads", "1,2",
                 "--repeats", "2", "--json"])
    records = json.loads(capsys.readouterr().out)
    assert code == 0 and len(records) == 4
    outcomes = sorted((r["config"]["threads"], r["repeat"], r["checks"]["output_consistency"]) for r in records)
    assert outcomes == [(1, 0, "not_checked"), (1, 1, "pass"), (2, 0, "not_checked"), (2, 1, "pass")]
    assert all(r["status"] == "ok" for r in records)


def test_runs_at_other_input_shapes_are_not_compared():
    """One dynamic model run at two shapes (--input-shape) computes two different things."""
    from edgebench.records import InputShape

    small = (InputShape("image", (-1, -1, -1, 3), (1, 8, 8, 3), "given"),)
    large = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),)
    checks = _by_name(output_checks(_record("r1", "02", repeat=1, input_shapes=large),
                                    [_record("r0", "01", input_shapes=small)]))
    assert checks["output_consistency"].outcome == "not_checked"
    checks = _by_name(output_checks(_record("r2", "03", repeat=1, input_shapes=large),
                                    [_record("r0", "01", input_shapes=large)]))
    assert checks["output_consistency"].outcome == "fail"


def test_earlier_runs_read_while_the_store_is_away_are_asked_again_once_it_answers(tmp_path):
    """The worker reads a model's earlier runs on its device once per session, but only from an answer of
    the store itself: what an outbox knew during an outage (nothing, for a resumed process) is not kept,
    so the runs of the process before the resume are compared once the store is back."""
    import threading

    from edgebench.bench.session_plan import SessionPlan
    from edgebench.bench.worker import DeviceWorker
    from edgebench.protocols import resolve
    from edgebench.targets.local import LocalTarget
    from edgebench.workspace import Workspace

    before_resume = _record("r0", "01")

    class Outbox:
        def __init__(self):
            self.answers = [([], False), ([before_resume], True)]

        def runs_answer(self, session, *, device_id, model_sha256):
            assert (session, device_id, model_sha256) == ("s1", "dev1", "aa" * 32)
            return self.answers.pop(0)  # a third read would be an IndexError

    plan = SessionPlan(session="s1", protocol=resolve("smoke"), models=[], threads=[1], accelerators=["cpu"],
                       cpu_mask=None, done={})
    worker = DeviceWorker(LocalTarget(tmp_path / "device"), plan, store=None, workspace=Workspace.resolve(tmp_path),  # type: ignore[arg-type]
                          deploy=lambda *_: None, stop=threading.Event(), on_stage=lambda *_: None,  # type: ignore[arg-type,return-value]
                          on_record=lambda _r: None, outbox=Outbox())  # type: ignore[arg-type]
    during_outage = worker._earlier_runs(_record("r1", "02", repeat=1))
    assert during_outage == {}
    after = worker._earlier_runs(_record("r2", "03", repeat=2))
    assert list(after) == [before_resume.run_key]
    assert worker._earlier_runs(_record("r3", "04", repeat=3)) is after  # kept: no third read

"""`edgebench policy run`: a device follows a policy while its battery drains and it heats, and every
segment it ran is measured like a battery run.

One driver call (driver.sh with EDGEBENCH_POLICY): idle baseline, then segments — before each the driver
reads the battery level, charging and thermal status as an app would, looks the state up in the policy's
flat decision table (device_table.py) and runs that row's model for the segment's seconds — then idle
again. On the host each segment becomes one stored battery run of the variant it ran (its latency samples,
its share of the device samples, its energy per inference estimated over its own measured window against
the shared idle baselines, with every battery check), its protocol record carrying the segment: the state
read, the variant, the variant `decide.choose` gives for that state, and the variant it switched from. The
switches of the whole run are in <session>/policy-<id>/policy_run.json. Energy on a virtual device is
`simulated`, as for any battery run there.

The session's set-up (charger kept out, screen, Doze, calibration) is profile-battery's (BatterySession):
with the charger out, the device reads discharging throughout, so a run exercises the policy's
discharging rows; its battery level and thermal status move as the device drains and heats.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from edgebench import battery as eb
from edgebench.battery.estimate import Windows
from edgebench.bench.execute import MAX_BATTERY_RUNNER_BYTES, drive_and_collect, runner_failure
from edgebench.bench.input_shapes import shapes_ran
from edgebench.bench.invocation import IdleWindows, PolicySegments, build_invocation, model_device_path, policy_invocation
from edgebench.bench.plan import ModelFile, run_key
from edgebench.bench.run_record import run_header
from edgebench.devices.adb import DeviceConnectionError
from edgebench.errors import EdgebenchError, ParseError
from edgebench.harness.output import HarnessOutput, parse_harness_output
from edgebench.harness.samples import read_samples
from edgebench.policy.decide import choose
from edgebench.policy.device_table import SegmentChoice, flat_table, read_choices
from edgebench.profiling.battery_run import (BATTERY_CONFIG, RUN_MARGIN_S, WINDOW_PROP, BatteryRunContext,
                                             BatteryRunResult, as_resolved, estimate_and_store, store_failed)
from edgebench.profiling.session import BatterySession
from edgebench.profiling.windows import read_phases
from edgebench.records import EnergySource, Provenance
from edgebench.store import DeviceSample
from edgebench.targets.base import DriverResult
from edgebench.targets.device_state import DeviceStateGuard

SEGMENT_MARGIN_S = 60.0  # per segment: loading the library and compiling the segment's model


@dataclass(frozen=True)
class Segment:
    choice: SegmentChoice
    variant: str  # the policy's name of the variant the device ran
    sha256: str
    expected: str  # what decide.choose gives for the state the device read
    switched_from: str | None  # the previous segment's variant, when it differs
    result: BatteryRunResult

    def to_json(self, start_uptime_s: float) -> dict[str, Any]:
        record, energy = self.result.record, self.result.energy
        state = self.choice.state
        return {"segment": self.choice.segment, "t_s": round(self.choice.uptime_s - start_uptime_s, 3),
                "battery_pct": state.battery_pct, "charging": state.charging, "thermal_status": state.thermal_status,
                "battery_source": self.choice.battery_source, "thermal_source": self.choice.thermal_source,
                "variant": self.variant, "sha256": self.sha256, "expected_variant": self.expected,
                "agrees": self.variant == self.expected, "switched_from": self.switched_from,
                "run_id": record.run_id, "status": record.status, "error": record.error,
                "failed_checks": [c.name for c in record.checks if c.outcome == "fail" and not c.advisory],
                "energy_per_inference_mj": None if energy is None or not math.isfinite(energy.energy_per_inference_mj)
                else energy.energy_per_inference_mj,
                "inferences": energy.inferences if energy is not None else None,
                "energy_source": record.provenance.energy_source}


@dataclass(frozen=True)
class PolicyRun:
    run_id: str  # the driver call's id (its folder: <session>/policy-<run_id>)
    policy_sha256: str
    segments: tuple[Segment, ...]
    error: str | None  # why the run stopped before its last segment, or could not be read

    def to_json(self) -> dict[str, Any]:
        start = self.segments[0].choice.uptime_s if self.segments else 0.0
        rows = [s.to_json(start) for s in self.segments]
        return {"policy_run": self.run_id, "policy_sha256": self.policy_sha256, "error": self.error,
                "segments": rows, "switches": [
                    {k: row[k] for k in ("t_s", "segment", "battery_pct", "charging", "thermal_status", "variant")}
                    | {"from": row["switched_from"]} for row in rows if row["switched_from"] is not None],
                "disagreements": [row["segment"] for row in rows if not row["agrees"]]}


@dataclass
class PolicyBatterySession(BatterySession):
    """profile-battery's session (set-up, locks, restore, summaries per variant) running one policy run."""

    policy: Mapping[str, Any] = field(default_factory=dict)
    policy_sha256: str = ""
    segments: int = 1
    outcome: PolicyRun | None = field(default=None, init=False)

    def _run_all(self, session: str, models: list[ModelFile], guard: DeviceStateGuard,
                 results: dict[str, list[BatteryRunResult]]) -> None:
        context = self._set_up(session, models, guard)
        self.on_stage(f"running under the policy: {self.segments} segment(s) of {self.protocol.duration_s:g} s")
        self.outcome = run_under_policy(context, session, self.policy, self.policy_sha256, models, self.segments)
        for segment in self.outcome.segments:
            results[segment.sha256].append(segment.result)
        record = self.workspace.session_dir(session) / f"policy-{self.outcome.run_id}" / "policy_run.json"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(self.outcome.to_json(), indent=1) + "\n")


def _read_pulled(result: DriverResult, sysroot: str
                 ) -> tuple[list[SegmentChoice], list[HarnessOutput | None], list[DeviceSample], dict[str, float]]:
    choices = read_choices(result.out_dir / "policy.txt")
    outputs: list[HarnessOutput | None] = []
    for choice in choices:
        file = result.out_dir / f"runner.{choice.segment}.jsonl"
        if not file.exists():
            outputs.append(None)
            continue
        if file.stat().st_size > MAX_BATTERY_RUNNER_BYTES:
            raise ParseError(f"segment {choice.segment}'s runner output is larger than the"
                             f" {MAX_BATTERY_RUNNER_BYTES // 2**20} MiB a battery run analyses: run at a fixed"
                             " rate (--inference-rate HZ)", source=str(file))
        outputs.append(parse_harness_output(file.read_text(errors="replace"), source=str(file)))
    return choices, outputs, read_samples(result.out_dir / "samples.jsonl", sysroot=sysroot), \
        read_phases(result.out_dir / "phases.txt")


def segment_windows(phases: Mapping[str, float], output: HarnessOutput, segment: int) -> Windows:
    """A segment's windows: the run's idle baselines, the segment's warm-up (from its start mark: its model
    loads and warms up) and its timed inferences."""
    first_timed_s = output.timed[0].start_ns / 1e9
    last = output.timed[-1]
    measured_end = last.start_ns / 1e9 + last.latency_us / 1e6
    workload_start = phases["workload_start"]
    idle_post_start = max(phases["workload_end"], measured_end)
    return Windows(idle_pre=(phases.get("idle_pre_start", workload_start), workload_start),
                   warmup=(min(phases.get(f"segment_{segment}_start", first_timed_s), first_timed_s), first_timed_s),
                   measured=(first_timed_s, measured_end),
                   idle_post=(idle_post_start, max(phases.get("idle_post_end", idle_post_start), idle_post_start)))


def run_under_policy(ctx: BatteryRunContext, session: str, policy: Mapping[str, Any], policy_sha256: str,
                     models: Sequence[ModelFile], segments: int) -> PolicyRun:
    target, p, dep = ctx.target, ctx.protocol, ctx.deployment
    info = target.describe()
    by_sha = {m.sha256: m for m in models}
    device_paths = {sha: target.device_path(model_device_path(m)) for sha, m in by_sha.items()}
    table = flat_table(policy, device_paths)
    table_sha = hashlib.sha256(table.encode()).hexdigest()
    run_id = hashlib.sha256(f"{session}\n{policy_sha256}\n{table_sha}".encode()).hexdigest()[:16]
    results_dir = ctx.workspace.session_dir(session) / f"policy-{run_id}"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "policy_table.txt").write_text(table)
    table_rel = f"policy/{table_sha[:16]}.txt"
    target.stage({table_rel: results_dir / "policy_table.txt"})
    resolved = as_resolved(p)
    base = build_invocation(dep, models[0], BATTERY_CONFIG, resolved, sample_ms=max(1, int(round(1000.0 / p.sample_hz))),
                            timeout_margin_s=RUN_MARGIN_S, idle=IdleWindows(int(round(p.idle_s)), run_id, WINDOW_PROP))
    invocation = policy_invocation(base, PolicySegments(target.device_path(table_rel), segments, SEGMENT_MARGIN_S),
                                   resolved)
    try:
        collected = drive_and_collect(dep, f"{session}/policy-{run_id}", invocation, results_dir / "out", keep=ctx.keep,
                                      read=lambda result: _read_pulled(result, target.sysroot))
    except DeviceConnectionError as exc:
        return PolicyRun(run_id, policy_sha256, (), str(exc))
    if collected.value is None:
        return PolicyRun(run_id, policy_sha256, (), collected.error)
    choices, outputs, samples, phases = collected.value
    result = collected.result
    error = None
    if result is not None and result.exit_code != 0:
        error = f"the driver exited {result.exit_code} after {len(choices)} segment(s): {result.stderr_tail.strip()[-500:]}"
    try:
        series = eb.GaugeSeries.from_samples([(s.t_ns, s.channel, s.value_text) for s in samples],
                                             ctx.prepared.battery_dir)
    except EdgebenchError as exc:
        series, error = None, f"the gauge trace cannot be analysed: {exc}"
    names = {str(v["sha256"]): str(v["name"]) for v in policy["variants"]}
    energy_source: EnergySource = "simulated" if info.device_kind in ("virtual", "emulator") else "measured"
    starts = [phases.get(f"segment_{c.segment}_start", c.uptime_s) for c in choices]
    done: list[Segment] = []
    for index, (choice, output) in enumerate(zip(choices, outputs)):
        model = next((m for sha, m in by_sha.items() if device_paths[sha] == choice.model_path), None)
        if model is None:
            error = f"segment {choice.segment} ran {choice.model_path}, which is no variant of the policy"
            break
        try:
            expected = choose(policy, choice.state).name
        except ValueError as exc:  # a state the rule cannot take (e.g. a level above 100 from an odd scale)
            expected = f"none: {exc}"
        previous = done[-1].variant if done else None
        variant = names[model.sha256]
        switched_from = previous if previous not in (None, variant) else None
        extra = {"policy": {"policy_run": run_id, "policy_sha256": policy_sha256, "segment": choice.segment,
                            "segments": segments, "state": {"battery_pct": choice.state.battery_pct,
                                                            "charging": choice.state.charging,
                                                            "thermal_status": choice.state.thermal_status},
                            "battery_source": choice.battery_source, "thermal_source": choice.thermal_source,
                            "variant": variant, "expected_variant": expected,
                            "switched_from": switched_from}}
        key = run_key(session=session, model_sha256=model.sha256, harness_build_id=dep.harness_build_id,
                      runtime_sha256=dep.runtime_sha256, device_id=info.device_id, config=BATTERY_CONFIG,
                      protocol=resolved, repeat=choice.segment)
        header = run_header(key=key, session=session, model=model, target=target.name, device_id=info.device_id,
                            config=BATTERY_CONFIG, protocol="battery", repeat=choice.segment,
                            provenance=Provenance(info.device_kind, energy_source=energy_source),
                            harness_build_id=dep.harness_build_id, runtime_sha256=dep.runtime_sha256)
        low = -math.inf if index == 0 else starts[index]
        high = starts[index + 1] if index + 1 < len(starts) else math.inf
        own = [s for s in samples if low <= s.t_ns / 1e9 < high]  # each sample stored once, with its segment
        end = phases.get(f"segment_{choice.segment}_end")
        wall = end - starts[index] if end is not None else None
        stored = _store_segment(ctx, header, output, own, series, phases, choice.segment, results_dir, wall, extra,
                                failed=runner_failure(header, output, model, dep, result, require_timed=True)
                                if output is not None else header.failed(
                                    "the runner wrote no output for this segment", wall_seconds=wall))
        done.append(Segment(choice, variant, model.sha256, expected, switched_from, stored))
    return PolicyRun(run_id, policy_sha256, tuple(done), error)


def _store_segment(ctx: BatteryRunContext, header: Any, output: HarnessOutput | None, samples: list[DeviceSample],
                   series: eb.GaugeSeries | None, phases: Mapping[str, float], segment: int, results_dir: Path,
                   wall: float | None, extra: Mapping[str, Any], *, failed: Any) -> BatteryRunResult:
    if failed is not None or output is None:
        return store_failed(ctx, failed, samples, protocol_extra=extra)
    header = header.with_shapes(shapes_ran(output.setup, None))
    if series is None:
        return store_failed(ctx, header.failed("the gauge trace cannot be analysed", wall_seconds=wall), samples,
                            protocol_extra=extra)
    try:
        windows = segment_windows(phases, output, segment)
    except EdgebenchError as exc:
        return store_failed(ctx, header.failed(str(exc), wall_seconds=wall), samples, protocol_extra=extra)
    return estimate_and_store(ctx, header, output, samples, series, windows, results_dir / "out", wall,
                              plot_name=f"trace-segment-{segment}.png", protocol_extra=extra)

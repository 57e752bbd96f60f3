"""`edgebench profile-battery`: energy per inference on a device's own fuel gauge (§4.1, §1.7).

Per model and repeat (repeats outermost, so configurations interleave): idle baseline, warm-up,
measured window, idle baseline, all sampled on the device and pulled afterwards; then calibration
(reused from the device's profile, or made from this run's own trace), the estimate and every
invalid-run check. Everything changed on the device is journaled there first and restored on every
exit path: airplane mode, the charger (power path), the screen (--screen, default off: §4.1
"brightness fixed or screen off") and Doze (disabled for the session, §2.2).

Where the device has ODPM power rails the shell can read (power_rails.py), the sampler reads them
too and each run also gets SoC rail energy per inference (battery/rails.py), reported beside the
fuel-gauge figure as `power_rails`; the fuel-gauge `energy_per_inference_mj` keeps its meaning.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from edgebench.bench.execute import (MAX_BATTERY_RUNNER_BYTES, deploy_harness_factory, model_device_path,
                                     read_pulled_run, utc_now)
from edgebench.targets.locks import HostLock, owner_record
from edgebench.bench.input_shapes import ShapesArgument, plan_session_shapes, shapes_ran
from edgebench.bench.plan import ModelFile, run_key
from edgebench.bench.session import load_models, new_session_id
from edgebench.errors import DeviceError, EdgebenchError, ParseError, UsageError
from edgebench.harness.output import HarnessOutput
from edgebench.harness.samples import read_samples
from edgebench.targets.device_state import (DeviceStateGuard, StateChange, read_wakefulness, restore_pending,
                                            screen_of)
from edgebench.profiling.power_path import establish, find_battery_dir
from edgebench.profiling.power_rails import RailsInfo, detect_rails
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.profiling.run_evidence import charger_online, cooling_in, thermal_evidence
from edgebench.protocols import PRESETS, ResolvedProtocol
from edgebench.records import Check, Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats
from edgebench.store import LatencySample, ResultsStore
from edgebench.targets.adb import AdbTarget
from edgebench.workspace import Workspace

WINDOW_PROP = "debug.edgebench.window"  # the virtual device keeps its energy books by this property
RUN_MARGIN_S = 180.0
SCREEN_CHOICES = ("off", "on", "keep")


@dataclass(frozen=True)
class BatteryModelResult:
    model: str
    target: str
    run_ids: tuple[str, ...]
    energy_per_inference_mj: float | None
    ci_low_mj: float | None
    ci_high_mj: float | None
    idle_power_mw: float | None
    active_power_mw: float | None
    inferences: int
    valid: bool
    checks: dict[str, str]
    check_reasons: dict[str, str]
    device_kind: str
    energy_source: str
    trace_plots: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # ODPM power rails (None/empty when the device has none; rails_reason says why)
    rails_available: bool = False
    rails_reason: str | None = None
    rail_soc_energy_per_inference_mj: float | None = None
    rail_soc_ci_low_mj: float | None = None
    rail_soc_ci_high_mj: float | None = None
    rail_soc_names: tuple[str, ...] = ()
    rail_energy_per_inference_mj: dict[str, float] = field(default_factory=dict)
    energy_summary: Any = None  # battery.EnergySummary: the CI's level, and whether the figure is resolved

    @property
    def simulated(self) -> bool:
        return self.energy_source != "measured" or self.device_kind in ("virtual", "emulator")

    def power_rails_json(self) -> dict[str, Any]:
        soc = None
        if self.rail_soc_energy_per_inference_mj is not None:
            soc = {"value": self.rail_soc_energy_per_inference_mj, "ci_low": self.rail_soc_ci_low_mj,
                   "ci_high": self.rail_soc_ci_high_mj}
        return {"available": self.rails_available, "reason": self.rails_reason, "source": "odpm",
                "soc_energy_per_inference_mj": soc, "soc_rails": list(self.rail_soc_names),
                "per_rail_energy_per_inference_mj": dict(self.rail_energy_per_inference_mj),
                "simulated": self.device_kind in ("virtual", "emulator")}

    def to_json(self) -> dict[str, Any]:
        from edgebench.battery.summary import headline_json

        return {"model": self.model, "target": self.target, "run_ids": list(self.run_ids),
                "energy_per_inference_mj": headline_json(self.energy_summary),
                "idle_power_mw": self.idle_power_mw, "active_power_mw": self.active_power_mw,
                "inferences": self.inferences, "valid": self.valid, "checks": self.checks,
                "check_reasons": self.check_reasons, "device_kind": self.device_kind,
                "energy_source": self.energy_source, "simulated": self.simulated,
                "trace_plots": list(self.trace_plots), "notes": list(self.notes),
                "power_rails": self.power_rails_json()}


@dataclass
class _RunResult:
    run_id: str
    record: RunRecord
    energy: Any | None  # battery.RunEnergy
    plot: str | None
    rails: Any | None = None  # battery.rails.RunRails


@dataclass
class BatterySession:
    workspace: Workspace
    store: ResultsStore
    target: AdbTarget
    protocol: BatteryProtocol
    shortened: tuple[str, ...]
    power_path: str = "auto"
    screen: str = "off"  # off | on | keep
    keep: bool = False
    on_stage: Callable[[str], None] = field(default=lambda stage: None)
    input_shapes: ShapesArgument = None  # --input-shape values, as push-and-run takes them
    _shapes: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def run(self, model_paths: Sequence[str], *, command: str = "") -> tuple[str, list[BatteryModelResult]]:
        models, problems = load_models(model_paths)
        if problems:
            raise UsageError("\n".join(p.message for p in problems))
        self._shapes = _shape_plans(models, self.input_shapes)
        target = self.target
        info = target.describe()
        session = new_session_id()
        self.store.add_session(session, started_at_utc=utc_now(), command=command or "profile-battery",
                               host=__import__("socket").gethostname(), version=__import__("edgebench").__version__)
        self.store.upsert_device(info.device_id, info.device_kind, info.to_json())
        for m in models:
            self.store.upsert_variant(m.sha256, m.name, m.size_bytes, {"path": str(m.path)})
        host_lock = HostLock(info.device_id, target.name)
        host_lock.acquire(session)
        results: dict[str, list[_RunResult]] = {m.sha256: [] for m in models}
        try:
            target.acquire_device_lock(owner_record(session))
            try:
                undone = restore_pending(target)
                if undone:
                    self.on_stage(f"restored what an interrupted run left: {'; '.join(undone)}")
                guard = DeviceStateGuard(target)
                try:
                    self._run_all(session, models, guard, results)
                finally:
                    self.on_stage("restoring the device")
                    guard.restore()
            finally:
                target.release_device_lock()
        finally:
            host_lock.release()
        summaries = [self._summarize(m, results[m.sha256], session) for m in models]
        self._plot_energy(models, results, session)
        return session, summaries

    def _plot_energy(self, models: list[ModelFile], results: dict[str, list[_RunResult]], session: str) -> None:
        """Energy per inference per model with its CI, saved with the session's runs."""
        from edgebench import battery as eb

        per_model = {m.name: eb.summarize_repeats([r.energy for r in results[m.sha256]
                                                   if r.energy is not None and r.record.status == "ok"])
                     for m in models
                     if any(r.energy is not None and r.record.status == "ok" for r in results[m.sha256])}
        if per_model:
            eb.plot_energy(per_model, self.workspace.session_dir(session) / "energy_per_inference.png")

    # -- the measurement ----------------------------------------------------------------------------
    def _run_all(self, session: str, models: list[ModelFile], guard: DeviceStateGuard,
                 results: dict[str, list[_RunResult]]) -> None:
        target, protocol = self.target, self.protocol
        battery_dir = find_battery_dir(target)
        self.precondition_checks = self._check_preconditions(battery_dir)
        self.rails = detect_rails(target)
        self.airplane_set = self._airplane_on(guard)
        self.doze = guard.disable_doze()
        self.on_stage("establishing the power path (charger out) and verifying discharging")
        self.path = establish(guard, self.power_path, battery_dir, verify_s=protocol.verify_discharging_s)
        # After the power path: some phones wake the screen when the charger comes or goes.
        self.screen_change = self._set_screen(guard)
        # The invalid-run checks compare each run's end with the state edgebench SET, not with what
        # the device had before edgebench touched it.
        self.state_before = self._observe_state()
        self.on_stage("deploying the harness")
        dep = deploy_harness_factory(self.workspace)(target, models)
        self.calibration = self._stored_calibration(target.describe().device_id)
        if self.calibration is None:
            self.calibration = self._calibrate(dep, battery_dir, session)
        baseline_temp = self._battery_temp_c(battery_dir)
        first = True
        for repeat in range(protocol.repeats):
            for model in models:
                if not first:
                    self._cool_down(baseline_temp, battery_dir)
                first = False
                self.on_stage(f"{model.name} · repeat {repeat + 1}/{protocol.repeats}: idle, warm-up, measured, idle")
                results[model.sha256].append(self._one_run(session, dep, model, repeat, battery_dir))

    def _one_run(self, session: str, dep, model: ModelFile, repeat: int, battery_dir: str) -> _RunResult:  # type: ignore[no-untyped-def]
        from edgebench import battery as eb
        from edgebench.battery import setup_checks as eb_checks

        target, p = self.target, self.protocol
        info = target.describe()
        config = RunConfig(threads=1, accelerator="cpu")
        resolved = _as_resolved(p)
        key = run_key(session=session, model_sha256=model.sha256, harness_build_id=dep.harness_build_id,
                      runtime_sha256=dep.runtime_sha256, device_id=info.device_id, config=config,
                      protocol=resolved, repeat=repeat,
                      input_shapes=self._shapes[model.sha256].key() if model.sha256 in self._shapes else ())
        run_id = key[:16]
        results_dir = self.workspace.session_dir(session) / run_id
        energy_source = "simulated" if info.device_kind in ("virtual", "emulator") else "measured"
        base = dict(run_id=run_id, run_key=key, session=session, model=model.name, model_sha256=model.sha256,
                    model_size_bytes=model.size_bytes, target=target.name, device_id=info.device_id, config=config,
                    protocol="battery", repeat=repeat,
                    provenance=Provenance(info.device_kind, energy_source=energy_source),  # type: ignore[arg-type]
                    harness_build_id=dep.harness_build_id, runtime_sha256=dep.runtime_sha256,
                    started_at_utc=utc_now())
        args = ["--model", target.device_path(model_device_path(model)), "--lib", dep.library, "--threads", "1",
                "--warmup-runs", "0", "--warmup-seconds", f"{p.warmup_s:g}", "--runs", "1",
                "--min-seconds", f"{p.duration_s:g}", "--max-seconds", f"{p.duration_s:g}", "--input-seed", "1"]
        shape_plan = self._shapes.get(model.sha256)
        args += shape_plan.runner_args() if shape_plan is not None else []
        if p.rate_hz:
            args += ["--run-delay-ms", f"{1000.0 / p.rate_hz:g}"]
        env = {"EDGEBENCH_SYSROOT": target.sysroot, "EDGEBENCH_BIN_DIR": dep.bin_dir,
               "EDGEBENCH_IDLE_S": str(int(round(p.idle_s))),
               "EDGEBENCH_SAMPLE_MS": str(max(1, int(round(1000.0 / p.sample_hz)))),
               "EDGEBENCH_RUN_ID": run_id, "EDGEBENCH_WINDOW_PROP": WINDOW_PROP}
        timeout = 2 * p.idle_s + p.warmup_s + p.duration_s * 1.5 + RUN_MARGIN_S
        output: HarnessOutput | None = None
        try:
            result = target.run_driver(f"{session}/{run_id}", args, env, timeout, results_dir)
            output, samples = read_pulled_run(result, target.sysroot, max_runner_bytes=MAX_BATTERY_RUNNER_BYTES)
            phases = _read_phases(result.out_dir / "phases.txt")
        except EdgebenchError as exc:
            record = RunRecord(**base, status="failed", checks=(), error=str(exc))
            self.store.save_run(record, {"battery": p.to_json()})
            return _RunResult(run_id, record, None, None)
        finally:
            target.finish_run(f"{session}/{run_id}", keep=self.keep)
        base["input_shapes"] = shapes_ran(output.setup, shape_plan)  # what the runner ran
        if not output.ok or not output.timed:
            reason = output.failure_reason or "the runner timed no inference"
            record = RunRecord(**base, status="failed", checks=(), error=reason)
            self.store.save_run(record, {"battery": p.to_json()})
            return _RunResult(run_id, record, None, None)

        try:
            series = eb.GaugeSeries.from_samples([(s.t_ns, s.channel, s.value_text) for s in samples], battery_dir)
            windows = _windows(phases, output)
        except EdgebenchError as exc:  # this run's trace cannot be analysed: recorded, the session goes on
            record = RunRecord(**base, status="failed", checks=(), error=str(exc))
            self.store.save_run(record, {"battery": p.to_json()}, device_samples=samples)
            return _RunResult(run_id, record, None, None)
        calibration = self.calibration
        state_after = self._observe_state()
        cooling_max = cooling_in(samples, windows.measured)[1]
        energy = eb.estimate_run(
            series, calibration, windows, len(output.timed),
            inference_times_s=__import__("numpy").array([s.start_ns / 1e9 for s in output.timed]),
            sample_period_s=1.0 / p.sample_hz, input_suspended=self.path.input_suspended,
            updates_stopped=state_after.get("updates_stopped"),
            thermal=thermal_evidence(result.out_dir, samples, windows.measured),
            cooling_max_state=cooling_max[1] if cooling_max else None,
            screen_changed=_changed(screen_of(self.state_before.get("wakefulness")),
                                    screen_of(state_after.get("wakefulness"))),
            airplane_changed=_changed(self.state_before.get("airplane") if not self.airplane_set else "1",
                                      state_after.get("airplane")),
            expected_duration_s=p.duration_s,
            shortened_reason="; ".join(self.shortened) if self.shortened else None)
        rails = self._run_rails(samples, windows, len(output.timed))
        checks = tuple(energy.checks) + (
            eb_checks.calibration(calibration, series.between(*windows.span)),
            eb_checks.charger_online(charger_online(samples, battery_dir, windows.span),
                                     self.path.input_suspended),
        ) + self.precondition_checks
        invalid = any(c.outcome == "fail" and not c.advisory for c in checks)
        plot = None
        try:
            plot = str(eb.plot_trace(series, calibration, windows,
                                     __import__("numpy").array([s.start_ns / 1e9 for s in output.timed]),
                                     results_dir / "trace.png"))
        except Exception as exc:  # noqa: BLE001 - a plot never loses a measurement
            plot = None
            checks = checks + (Check("trace_plot", "not_checked", f"plot failed: {exc}", advisory=True),)
        timed = [s.latency_us for s in output.timed]
        record = RunRecord(**base, status="invalid" if invalid else "ok", checks=checks,
                           latency=latency_stats(timed),
                           init_ms=output.init_total_us / 1000 if output.init_total_us is not None else None,
                           first_inference_us=output.first_inference_us, peak_rss_kb=output.peak_rss_kb,
                           threads_observed=output.threads_observed, accelerator_used=output.accelerator_used,
                           output_checksum=output.output_checksum, runtime_api_generation=output.api_generation,
                           wall_seconds=None)
        latency_rows = [LatencySample("timed", s.index, s.latency_us, s.start_ns) for s in output.timed]
        self.store.save_run(record, {"battery": p.to_json()}, latency_rows, samples, energy={
            "energy_source": record.provenance.energy_source,
            "idle_pre_power_mw": energy.idle_pre_power_mw, "idle_post_power_mw": energy.idle_post_power_mw,
            "idle_power_mw": energy.idle_power_mw, "active_power_mw": energy.active_power_mw,
            "measured_seconds": energy.measured_seconds, "inferences": energy.inferences,
            "energy_per_inference_mj": energy.energy_per_inference_mj,
            "gross_energy_per_inference_mj": energy.gross_energy_per_inference_mj,
            "charge_counter_energy_mj": energy.charge_counter_energy_mj,
            "current_integral_energy_mj": energy.current_integral_energy_mj,
            "calibration_json": json.dumps(calibration.to_json()), "power_path": self.path.how,
            "device_changes_json": json.dumps(self._device_changes()),
            "rails_json": json.dumps(rails.to_json()) if rails is not None else None})
        return _RunResult(run_id, record, energy, plot, rails)

    # -- calibration: reused from the device profile, or made from this run -------------------------
    def _profile_file(self, device_id: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", device_id)
        return self.workspace.root / "device-profiles" / f"{safe}.json"

    def _stored_calibration(self, device_id: str):  # type: ignore[no-untyped-def]
        from edgebench import battery as eb

        path = self._profile_file(device_id)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        if "calibration" not in data:
            return None
        return eb.Calibration.from_json(data["calibration"], source=f"reused from device profile {path}")

    def _calibrate(self, dep, battery_dir: str, session: str):  # type: ignore[no-untyped-def]
        """Record the idle, discharging gauge (sampler only) and fit current_now's unit and sign (§1.3).

        Kept with the device's profile and reused by later sessions: once per device and OS build.
        """
        from edgebench import battery as eb
        from edgebench.devices.adb import quote

        p = self.protocol
        self.on_stage(f"calibrating the fuel gauge: {p.calibrate_s:g} s idle and discharging (once per device)")
        folder = self.target.device_path(f"runs/{session}/calibration")
        nodes = " ".join(f"{battery_dir}/{n}" for n in ("current_now", "voltage_now", "charge_counter", "status",
                                                        "temp", "capacity"))
        interval = max(1, int(round(1000.0 / p.sample_hz)))
        self.target.device.check_shell(
            f"mkdir -p {quote(folder)} && ({quote(dep.bin_dir + '/edgebench_sampler')} --interval-ms {interval} "
            f"--out {quote(folder + '/samples.jsonl')} {nodes} & pid=$!; sleep {int(round(p.calibrate_s))}; "
            f"kill -TERM $pid; wait $pid) 2>&1", timeout=p.calibrate_s + RUN_MARGIN_S)
        local = self.workspace.session_dir(session) / "calibration" / "samples.jsonl"
        self.target.device.pull(folder + "/samples.jsonl", local)
        self.target.device.shell(["rm", "-rf", folder])
        samples = read_samples(local)
        series = eb.GaugeSeries.from_samples([(s.t_ns, s.channel, s.value_text) for s in samples], battery_dir)
        try:
            calibration = eb.calibrate(series, source=f"calibrated from {p.calibrate_s:g} s idle in session {session}")
        except eb.CalibrationError as exc:
            raise DeviceError(self.target.name, f"the fuel gauge could not be calibrated, so energy cannot be "
                              f"measured on this device: {exc}", command="edgebench_sampler (calibration)") from exc
        path = self._profile_file(self.target.describe().device_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"device_id": self.target.describe().device_id,
                                    "calibration": calibration.to_json()}, indent=1))
        return calibration

    # -- device state -------------------------------------------------------------------------------
    def _check_preconditions(self, battery_dir: str) -> tuple[Check, ...]:
        """§4.1 preconditions 2 and 3: refuse the session when one fails; one that cannot be read is
        recorded as not_checked on every run, never passed."""
        from edgebench.battery import setup_checks as eb_checks

        command = f"cat {battery_dir}/capacity"
        read = self.target.device.shell(["cat", f"{battery_dir}/capacity"])
        level = eb_checks.battery_level_start(read.stdout if read.exit_code == 0 else None,
                                              f"`{command}` (exit {read.exit_code})")
        state = self._observe_state()
        thermal = eb_checks.thermal_start(state.get("thermal_status"), state.get("thermal_unreadable")
                                          or "no thermal status")
        for check, what in ((level, command), (thermal, "dumpsys thermalservice")):
            if check.outcome == "fail":
                raise DeviceError(self.target.name, check.reason or check.name, command=what)
        return level, thermal

    def _observe_state(self) -> dict[str, Any]:
        """Framework state by dumpsys/settings; None (with a reason where useful) for what could not be read."""
        from edgebench.parsers import parse_dumpsys_battery, parse_dumpsys_thermalservice

        device = self.target.device
        state: dict[str, Any] = {}
        try:
            thermal = parse_dumpsys_thermalservice(device.check_shell(["dumpsys", "thermalservice"]))
            state["thermal_status"] = thermal.thermal_status
            if thermal.thermal_status is None:
                state["thermal_unreadable"] = ("`dumpsys thermalservice` gave no thermal status (no Thermal "
                                               "Status line, or the thermal HAL has not reported yet)")
        except EdgebenchError as exc:
            state["thermal_status"] = None
            state["thermal_unreadable"] = f"`dumpsys thermalservice` could not be read: {exc}"
        try:
            battery = parse_dumpsys_battery(device.check_shell(["dumpsys", "battery"]))
            state["updates_stopped"] = battery.updates_stopped
        except EdgebenchError:
            state["updates_stopped"] = None  # unknown, not "not stopped": the check says not_checked
        state["wakefulness"] = read_wakefulness(self.target)
        airplane = device.shell(["settings", "get", "global", "airplane_mode_on"])
        state["airplane"] = airplane.stdout.strip() if airplane.exit_code == 0 else None
        doze = device.shell(["dumpsys", "deviceidle", "get", "deep"])
        state["doze"] = doze.stdout.strip() if doze.exit_code == 0 else None
        return state

    def _airplane_on(self, guard: DeviceStateGuard) -> bool:
        if self.power_path == "wifi-adb" or ":" in self.target.name and self.power_path == "auto":
            return False  # airplane mode would cut the Wi-Fi adb link itself
        if not guard.put_setting("global", "airplane_mode_on", "1"):
            return False
        self.target.device.shell(["cmd", "connectivity", "airplane-mode", "enable"])
        return True

    def _set_screen(self, guard: DeviceStateGuard) -> StateChange:
        if self.screen == "keep":
            now = read_wakefulness(self.target)
            return StateChange("screen", "keep", True, False, now, now, f"left as it was ({now or 'unknown'})")
        self.on_stage(f"screen {self.screen}")
        return guard.set_screen(self.screen)

    def _device_changes(self) -> dict[str, Any]:
        """What edgebench set on the device for this session, and what the device refused."""
        changes = (self.screen_change, self.doze)
        return {"airplane_set": self.airplane_set, "screen": self.screen_change.to_json(),
                "doze": self.doze.to_json(),
                "set": [f"{c.what} {c.requested}: {c.detail}" for c in changes if c.applied and c.changed],
                "refused": [f"{c.what} {c.requested}: {c.detail}" for c in changes if not c.applied]}

    def _state_notes(self) -> list[str]:
        notes = []
        for change in (getattr(self, "screen_change", None), getattr(self, "doze", None)):
            if change is None:
                continue
            restored = " (restored afterwards)" if change.changed else ""
            prefix = "" if change.applied else "NOT SET: "
            notes.append(f"{prefix}{change.what} {change.requested}: {change.detail}{restored}")
        return notes

    def _run_rails(self, samples: Sequence[Any], windows: Any, inferences: int) -> Any:
        """This run's ODPM rail figures (battery.rails.RunRails), or None on a device without rails."""
        from edgebench.battery.rails import estimate_rails

        if not self.rails.available:
            return None
        return estimate_rails(samples, windows, inferences, subsystems=self.rails.subsystems)

    def _battery_temp_c(self, battery_dir: str) -> float | None:
        text = self.target.device.shell(["cat", f"{battery_dir}/temp"]).stdout.strip()
        return int(text) / 10.0 if text.lstrip("-").isdigit() else None

    def _cool_down(self, baseline_temp: float | None, battery_dir: str) -> None:
        p = self.protocol
        if p.cooldown == "none":
            return
        if p.cooldown != "auto":
            self.on_stage(f"cool-down {float(p.cooldown):g} s")
            time.sleep(float(p.cooldown))
            return
        self.on_stage(f"cool-down (at least {p.cooldown_min_s:g} s, until thermal status 0 and battery within 1 °C)")
        start = time.monotonic()
        time.sleep(p.cooldown_min_s)
        while time.monotonic() - start < p.cooldown_max_s:
            temp = self._battery_temp_c(battery_dir)
            status = self._observe_state().get("thermal_status")
            if status in (None, 0) and (baseline_temp is None or temp is None or temp <= baseline_temp + 1.0):
                return
            time.sleep(5.0)

    # -- per model ----------------------------------------------------------------------------------
    def _summarize(self, model: ModelFile, runs: list[_RunResult], session: str) -> BatteryModelResult:
        from edgebench import battery as eb

        info = self.target.describe()
        energies = [r.energy for r in runs if r.energy is not None and r.record.status == "ok"]
        checks: dict[str, str] = {}
        reasons: dict[str, str] = {}
        rank = {"fail": 2, "not_checked": 1, "pass": 0}
        for r in runs:
            for c in r.record.checks:
                if c.name not in checks or rank[c.outcome] > rank[checks[c.name]]:
                    checks[c.name] = c.outcome
                    if c.reason:
                        reasons[c.name] = c.reason
            if r.record.status == "failed":
                checks["run"] = "fail"
                reasons["run"] = r.record.error or "failed"
        summary = eb.summarize_repeats(energies) if energies else None
        notes = []
        if summary is not None and summary.high_cv:
            notes.append("CV of energy per inference across repeats > 10%: more repeats advised")
        if summary is not None and summary.note:
            notes.append(summary.note)
        notes.extend(self._state_notes())
        rails = self._summarize_rails(runs, notes)
        mean = (lambda xs: sum(xs) / len(xs) if xs else None)
        return BatteryModelResult(
            model=model.name, target=self.target.name, run_ids=tuple(r.run_id for r in runs),
            energy_per_inference_mj=summary.headline_mj if summary else None, energy_summary=summary,
            ci_low_mj=summary.ci_low_mj if summary else None, ci_high_mj=summary.ci_high_mj if summary else None,
            idle_power_mw=mean([e.idle_power_mw for e in energies]),
            active_power_mw=mean([e.active_power_mw for e in energies]),
            inferences=sum(e.inferences for e in energies),
            valid=bool(energies) and all(r.record.status == "ok" for r in runs),
            checks=checks, check_reasons=reasons, device_kind=info.device_kind,
            energy_source="simulated" if info.device_kind in ("virtual", "emulator") else "measured",
            trace_plots=tuple(r.plot for r in runs if r.plot), notes=tuple(notes), **rails)

    def _summarize_rails(self, runs: list[_RunResult], notes: list[str]) -> dict[str, Any]:
        """BatteryModelResult's rail fields: SoC rail energy per inference over the valid runs."""
        from edgebench.battery.rails import summarize_rails

        info: RailsInfo | None = getattr(self, "rails", None)
        if info is None or not info.available:
            return {"rails_available": False,
                    "rails_reason": info.reason if info else "rails were not checked (the session stopped early)"}
        sampled = [r.rails for r in runs if r.rails is not None and r.rails.available]
        if not sampled:
            reasons = sorted({r.rails.reason for r in runs if r.rails is not None and r.rails.reason})
            return {"rails_available": False,
                    "rails_reason": "; ".join(reasons) or "no run finished, so no rail figures were computed"}
        valid = [r.rails for r in runs if r.rails is not None and r.rails.available and r.record.status == "ok"]
        if not valid:
            return {"rails_available": True, "rails_reason": "no valid run: rail figures are only summarised "
                    "over runs that passed every check"}
        summary = summarize_rails(valid)
        if summary.note:
            notes.append(f"power rails: {summary.note}")
        soc_names = sorted({rail.name for run in valid for rail in run.rails if rail.soc})
        return {"rails_available": True, "rails_reason": None if summary.value_mj is not None else summary.note,
                "rail_soc_energy_per_inference_mj": summary.value_mj, "rail_soc_ci_low_mj": summary.ci_low_mj,
                "rail_soc_ci_high_mj": summary.ci_high_mj, "rail_soc_names": tuple(soc_names),
                "rail_energy_per_inference_mj": summary.per_rail_energy_per_inference_mj}


def _shape_plans(models: Sequence[ModelFile], value: ShapesArgument) -> dict[str, Any]:
    """Each model's input shapes; a model that cannot run as asked is refused before the device is
    touched (a battery session spends minutes setting the device up)."""
    plans = plan_session_shapes(models, value)
    refused = [why for why in plans.values() if isinstance(why, str)]
    if refused:
        raise UsageError("\n".join(refused))
    return plans


def _read_phases(path: Path) -> dict[str, float]:
    phases: dict[str, float] = {}
    if not path.exists():
        raise ParseError("the driver wrote no phases.txt: the battery run's windows are unknown", source=str(path))
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        try:
            phases[parts[0]] = float(parts[1])
        except (IndexError, ValueError):
            raise ParseError("expected 'PHASE SECONDS'", source=str(path), line_number=number, line=line) from None
    for needed in ("workload_start", "workload_end"):
        if needed not in phases:
            raise ParseError(f"no {needed} mark", source=str(path))
    return phases


def _windows(phases: dict[str, float], output: HarnessOutput) -> Any:
    """The run's windows from the driver's phase marks and the runner's per-inference timestamps.

    The marks come from /proc/uptime (10 ms steps), the timestamps from CLOCK_BOOTTIME (ns), so a
    mark may fall a few ms inside the workload it bounds; the workload's own timestamps win there.
    """
    from edgebench import battery as eb

    first_timed_s = output.timed[0].start_ns / 1e9
    last = output.timed[-1]
    measured_end = last.start_ns / 1e9 + last.latency_us / 1e6
    workload_start = min(phases["workload_start"], first_timed_s)
    idle_post_start = max(phases["workload_end"], measured_end)
    return eb.Windows(idle_pre=(min(phases.get("idle_pre_start", workload_start), workload_start), workload_start),
                      warmup=(workload_start, first_timed_s),
                      measured=(first_timed_s, measured_end),
                      idle_post=(idle_post_start, max(phases.get("idle_post_end", idle_post_start), idle_post_start)))


def _as_resolved(p: BatteryProtocol) -> ResolvedProtocol:
    """Battery runs are keyed like latency runs; the battery preset's values stand in the effective protocol."""
    from dataclasses import replace

    base = replace(PRESETS["standard"], name="battery", warmup_runs=0, warmup_seconds=p.warmup_s, runs=1,
                   min_seconds=p.duration_s, max_seconds=p.duration_s, repeats=p.repeats, cooldown=p.cooldown,
                   run_delay_ms=1000.0 / p.rate_hz if p.rate_hz else 0.0)
    return ResolvedProtocol(preset=base, effective=base, shortened=())


def _changed(before: Any, after: Any) -> bool | None:
    if before is None or after is None:
        return None
    return before != after


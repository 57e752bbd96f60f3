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

This module orchestrates; the parts have one job each: preparation.py (the device's set-up),
calibration_profile.py (the gauge's calibration), battery_run.py (one run, on bench's run
pipeline), results.py (per model), phone_commands.py (the session's own device commands).
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from edgebench import battery as eb
from edgebench.version import __version__
from edgebench.bench.execute import deploy_harness_factory, utc_now
from edgebench.bench.input_shapes import ShapePlan, ShapesArgument, plan_session_shapes
from edgebench.targets.locks import HostLock, owner_record
from edgebench.bench.plan import ModelFile
from edgebench.bench.session import load_models, new_session_id
from edgebench.errors import UsageError
from edgebench.profiling.battery_run import (RUN_MARGIN_S, WINDOW_PROP, BatteryRunContext, BatteryRunResult,
                                             run_battery)
from edgebench.profiling.calibration_profile import calibrate_device, stored_calibration
from edgebench.targets.device_state import DeviceStateGuard
from edgebench.profiling.phone_commands import battery_temp_c, observe_state
from edgebench.profiling.preparation import PreparedDevice, prepare_device
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.profiling.results import BatteryModelResult, summarize_model
from edgebench.store import ResultsStore
from edgebench.targets.adb import AdbTarget
from edgebench.workspace import Workspace

__all__ = ["SCREEN_CHOICES", "WINDOW_PROP", "BatteryModelResult", "BatterySession"]

SCREEN_CHOICES = ("off", "on", "keep")


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
    _shapes: dict[str, ShapePlan] = field(default_factory=dict, init=False, repr=False)
    _prepared: PreparedDevice | None = field(default=None, init=False, repr=False)

    def run(self, model_paths: Sequence[str], *, command: str = "") -> tuple[str, list[BatteryModelResult]]:
        models, problems = load_models(model_paths)
        if problems:
            raise UsageError("\n".join(p.message for p in problems))
        self._shapes = _shape_plans(models, self.input_shapes)
        target = self.target
        info = target.describe()
        session = new_session_id()
        self.store.add_session(session, started_at_utc=utc_now(), command=command or "profile-battery",
                               host=socket.gethostname(), version=__version__)
        self.store.upsert_device(info.device_id, info.device_kind, info.to_json())
        for m in models:
            self.store.upsert_variant(m.sha256, m.name, m.size_bytes, {"path": str(m.path)})
        host_lock = HostLock(info.device_id, target.name)
        host_lock.acquire(session)
        results: dict[str, list[BatteryRunResult]] = {m.sha256: [] for m in models}
        try:
            target.acquire_device_lock(owner_record(session))
            try:
                undone = target.restore_pending_changes()
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
        prepared = self._prepared
        summaries = [summarize_model(m, results[m.sha256], target=target.name, device_kind=info.device_kind,
                                     rails_info=prepared.rails if prepared else None,
                                     state_notes=prepared.changes.notes() if prepared else ())
                     for m in models]
        self._plot_energy(models, results, session)
        return session, summaries

    def _plot_energy(self, models: list[ModelFile], results: dict[str, list[BatteryRunResult]], session: str) -> None:
        """Energy per inference per model with its CI, saved with the session's runs."""
        per_model = {m.name: eb.summarize_repeats([r.energy for r in results[m.sha256]
                                                   if r.energy is not None and r.record.status == "ok"])
                     for m in models
                     if any(r.energy is not None and r.record.status == "ok" for r in results[m.sha256])}
        if per_model:
            eb.plot_energy(per_model, self.workspace.session_dir(session) / "energy_per_inference.png")

    def _set_up(self, session: str, models: list[ModelFile], guard: DeviceStateGuard) -> BatteryRunContext:
        """Prepare the device (power path, screen, Doze), deploy the harness and models, and find or make
        the gauge's calibration: what every run of the session shares."""
        target, protocol = self.target, self.protocol
        prepared = prepare_device(target, guard, protocol, power_path=self.power_path, screen=self.screen,
                                  on_stage=self.on_stage)
        self._prepared = prepared
        self.on_stage("deploying the harness")
        dep = deploy_harness_factory(self.workspace)(target, models)
        calibration = stored_calibration(self.workspace, target.describe().device_id)
        if calibration is None:
            calibration = calibrate_device(self.workspace, target, dep, protocol, prepared.battery_dir, session,
                                           timeout_margin_s=RUN_MARGIN_S, on_stage=self.on_stage)
        return BatteryRunContext(self.workspace, self.store, target, protocol, self.shortened, self.keep, dep,
                                 prepared, calibration)

    def _run_all(self, session: str, models: list[ModelFile], guard: DeviceStateGuard,
                 results: dict[str, list[BatteryRunResult]]) -> None:
        target, protocol = self.target, self.protocol
        context = self._set_up(session, models, guard)
        prepared = context.prepared
        baseline_temp = battery_temp_c(target, prepared.battery_dir)
        first = True
        for repeat in range(protocol.repeats):
            for model in models:
                if not first:
                    self._cool_down(baseline_temp, prepared.battery_dir)
                first = False
                self.on_stage(f"{model.name} · repeat {repeat + 1}/{protocol.repeats}: idle, warm-up, measured, idle")
                results[model.sha256].append(run_battery(context, session, model, repeat,
                                                         self._shapes.get(model.sha256)))

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
            temp = battery_temp_c(self.target, battery_dir)
            status = observe_state(self.target).thermal_status
            if status in (None, 0) and (baseline_temp is None or temp is None or temp <= baseline_temp + 1.0):
                return
            time.sleep(5.0)


def _shape_plans(models: Sequence[ModelFile], value: ShapesArgument) -> dict[str, ShapePlan]:
    """Each model's input shapes; a model that cannot run as asked is refused before the device is
    touched (a battery session spends minutes setting the device up)."""
    plans = plan_session_shapes(models, value)
    refused = [why for why in plans.values() if isinstance(why, str)]
    if refused:
        raise UsageError("\n".join(refused))
    return {sha: plan for sha, plan in plans.items() if isinstance(plan, ShapePlan)}

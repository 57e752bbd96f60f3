"""The fuel gauge's calibration (current_now's unit and sign, §1.3): reused from the device's profile
in the workspace, or recorded once from an idle, discharging trace and kept there for later sessions."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from edgebench import battery as eb
from edgebench.bench.invocation import Deployment
from edgebench.errors import DeviceError
from edgebench.harness.samples import read_samples
from edgebench.profiling.phone_commands import record_idle_gauge
from edgebench.profiling.protocol import BatteryProtocol
from edgebench.targets.adb import AdbTarget
from edgebench.workspace import Workspace


def profile_file(workspace: Workspace, device_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", device_id)
    return workspace.root / "device-profiles" / f"{safe}.json"


def stored_calibration(workspace: Workspace, device_id: str) -> eb.Calibration | None:
    path = profile_file(workspace, device_id)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if "calibration" not in data:
        return None
    return eb.Calibration.from_json(data["calibration"], source=f"reused from device profile {path}")


def calibrate_device(workspace: Workspace, target: AdbTarget, dep: Deployment, protocol: BatteryProtocol,
                     battery_dir: str, session: str, *, timeout_margin_s: float,
                     on_stage: Callable[[str], None]) -> eb.Calibration:
    """Record the idle, discharging gauge (sampler only) and fit current_now's unit and sign (§1.3).

    Kept with the device's profile and reused by later sessions: once per device and OS build.
    """
    p = protocol
    on_stage(f"calibrating the fuel gauge: {p.calibrate_s:g} s idle and discharging (once per device)")
    local = workspace.session_dir(session) / "calibration" / "samples.jsonl"
    record_idle_gauge(target, dep.bin_dir + "/edgebench_sampler", battery_dir, session,
                      interval_ms=max(1, int(round(1000.0 / p.sample_hz))), seconds=p.calibrate_s,
                      timeout_s=p.calibrate_s + timeout_margin_s, local=local)
    samples = read_samples(local)
    series = eb.GaugeSeries.from_samples([(s.t_ns, s.channel, s.value_text) for s in samples], battery_dir)
    try:
        calibration = eb.calibrate(series, source=f"calibrated from {p.calibrate_s:g} s idle in session {session}")
    except eb.CalibrationError as exc:
        raise DeviceError(target.name, f"the fuel gauge could not be calibrated, so energy cannot be "
                          f"measured on this device: {exc}", command="edgebench_sampler (calibration)") from exc
    device_id = target.describe().device_id
    path = profile_file(workspace, device_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"device_id": device_id, "calibration": calibration.to_json()}, indent=1))
    return calibration

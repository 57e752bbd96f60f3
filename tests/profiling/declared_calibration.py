"""Store a virtual phone's declared gauge units as its calibration, for tests that measure energy but
are not about calibrating: the calibration (§1.3, at least 60 s of idle) is tested on the mate-20 phone
in tests/profiling/test_profile_battery.py; the others spend their time on what they test."""
from __future__ import annotations

import json
import re
from pathlib import Path

from edgebench.targets import resolve_targets
from edgebench.virtual.profiles import profiles_dir
from edgebench.workspace import Workspace

SCALE_TO_UA = {"uA": 1.0, "mA": 1000.0}
DISCHARGE_SIGN = {"charging_positive": -1, "discharging_positive": 1}


def seed_declared_calibration(workspace: Path, serial: str, profile: str) -> None:
    """Write the device profile's calibration from the virtual profile's battery_model (unit, sign,
    gauge period, counter step), as `profile-battery` would store a measured one."""
    model = json.loads((profiles_dir() / f"{profile}.json").read_text())["battery_model"]
    ws = Workspace.resolve(workspace)
    device_id = resolve_targets(serial, ws)[0].describe().device_id
    path = ws.root / "device-profiles" / (re.sub(r"[^A-Za-z0-9_.-]", "_", device_id) + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"device_id": device_id, "calibration": {
        "kind": "edgebench.battery.calibration", "version": 1, "scale_to_ua": SCALE_TO_UA[model["current_unit"]],
        "discharge_sign": DISCHARGE_SIGN[model["sign"]], "update_period_s": model["update_period_ms"] / 1000.0,
        "charge_quantum_uah": float(model["charge_counter_quantum_uah"]), "agreement": 0.0,
        "source": f"test: {profile} profile's declared units ({model['current_unit']}, {model['sign']})"}}))

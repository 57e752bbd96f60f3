"""`edgebench policy run POLICY MODEL_DIR --target SERIAL --duration S`: the device follows the policy
(policy/run.py); prints each segment's state and variant, the switches, and energy per variant."""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Callable


def run_policy(args: argparse.Namespace) -> int:
    from edgebench.cli.device_session import adb_target, run_on_device
    from edgebench.errors import UsageError
    from edgebench.policy.check import check_policy, read_policy, sha256_of
    from edgebench.policy.run import PolicyBatterySession
    from edgebench.profiling.protocol import resolve
    from edgebench.protocols import check_number
    from edgebench.workspace import Workspace
    from pathlib import Path

    policy = read_policy(args.policy)
    checked = check_policy(policy, args.model_dir)
    if not checked.ok:
        wrong = "; ".join(f"{f.file}: {f.outcome} ({f.detail})" for f in checked.files if f.outcome != "ok")
        raise UsageError(f"{args.model_dir} does not hold the files {args.policy} was built from: {wrong}."
                         " Give the folder of the measured variants (`edgebench policy check` lists them)")
    duration = check_number("--duration", args.duration, low=1, high=7 * 24 * 3600)
    segment_s = check_number("--segment", args.segment if args.segment is not None else min(30.0, duration),
                             low=1, high=duration)
    segments = max(1, math.ceil(duration / segment_s - 1e-9))
    protocol, shortened = resolve(duration=segment_s, idle=args.idle, warmup=args.warmup, repeats=1, cooldown="none",
                                  sample_hz=args.rate, rate_hz=args.inference_rate,
                                  verify_discharging_s=args.verify_seconds, calibrate_s=args.calibrate_seconds)
    if protocol.idle_s < 1:
        raise UsageError(f"--idle must be at least 1 s under a policy: each segment's energy is its power above the"
                         f" idle baseline. Received: {protocol.idle_s:g}.")
    ws = Workspace.resolve(args.workspace)
    target = adb_target(args.target, ws, args.adb, needs="policy run reads a device's battery and thermal status")
    info = target.describe()
    measured_on = policy.get("device", {})
    same_device = (info.device_id in measured_on.get("device_ids", [])
                   or (info.model or info.device_id) == measured_on.get("model"))
    if not same_device and not args.allow_other_device_model:
        raise UsageError(f"{args.policy} was built from measurements on {measured_on.get('model')!r}"
                         f" ({', '.join(measured_on.get('device_ids', [])) or 'no ids'}); {target.name} is"
                         f" {info.model!r} ({info.device_id}): its choices are another device model's. Export a policy"
                         " from this device's measurements, or give --allow-other-device-model to run it anyway")
    models = sorted({str(Path(args.model_dir) / str(v["file"])) for v in policy["variants"]})
    def follow(store: Any, on_stage: Callable[[str], None]) -> tuple[PolicyBatterySession, str, list[Any]]:
        session = PolicyBatterySession(ws, store, target, protocol, shortened, power_path=args.power_path,
                                       screen=args.screen, keep=args.keep, on_stage=on_stage, policy=policy,
                                       policy_sha256=sha256_of(Path(args.policy)), segments=segments)
        return (session, *session.run(models, command=" ".join(sys.argv)))

    session, session_id, summaries = run_on_device(target, args.workspace, follow)
    outcome = session.outcome
    if outcome is None:
        raise UsageError("the policy run did not start (see the messages above)")
    report: dict[str, Any] = {"session": session_id, "policy": str(args.policy),
                              "device": {"model": info.model, "device_id": info.device_id, "kind": info.device_kind,
                                         "policy_measured_on": measured_on.get("model"),
                                         "same_device_model": same_device},
                              **outcome.to_json(),
                              "variants": [s.to_json() for s in summaries if s.run_ids]}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print(report)
    ok = outcome.error is None and not report["disagreements"] and len(outcome.segments) == segments
    return 0 if ok else 1


def _print(report: dict[str, Any]) -> None:
    print(f"session {report['session']}: policy {report['policy']}, {len(report['segments'])} segment(s)")
    if not report["device"]["same_device_model"]:
        print(f"  note: the policy was measured on {report['device']['policy_measured_on']!r}, this is"
              f" {report['device']['model']!r} (--allow-other-device-model)")
    for row in report["segments"]:
        energy = row["energy_per_inference_mj"]
        shown = f"{energy:.4g} mJ/inference ({row['energy_source']})" if energy is not None else "energy not known"
        mark = "" if row["agrees"] else f"  ≠ policy's {row['expected_variant']}"
        print(f"  {row['t_s']:8.1f} s  battery {row['battery_pct']:g} %, "
              f"{'charging' if row['charging'] else 'discharging'}, thermal {row['thermal_status']}"
              f"{' (not readable: 0)' if row['thermal_source'] == 'none' else ''}: {row['variant']}"
              f"{'  (switch)' if row['switched_from'] else ''}  {row['status']}, {shown}{mark}")
    print(f"{len(report['switches'])} switch(es)")
    for variant in report["variants"]:
        energy = variant.get("energy_per_inference_mj") or {}
        value = energy.get("value") if isinstance(energy, dict) else None
        print(f"  {variant['model']}: {len(variant['run_ids'])} segment(s), energy per inference "
              f"{'not known' if value is None else f'{value:.4g} mJ'}"
              f"{' (simulated)' if variant.get('simulated') else ''}")
    if report["error"]:
        print(f"stopped early: {report['error']}")
    if report["disagreements"]:
        print(f"the device's table and the policy's rule disagree in segment(s) {report['disagreements']}")

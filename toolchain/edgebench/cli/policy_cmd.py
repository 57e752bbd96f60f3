"""`edgebench policy export | check | simulate | run`: a runtime variant policy an app loads (README: edgebench policy).

run: a device follows the policy (driver.sh EDGEBENCH_POLICY), each segment measured as a battery run.
export: from one device model's measured variants (a study or session), the variant per battery band ×
charging × thermal status under the app's constraints, as JSON with a decision table; --devices writes one
policy per device model and says where their choices differ. check: the files a policy names against a
model folder (sha256). simulate: replay a battery/thermal trace under the policy and two baselines.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

HELP = "A runtime variant policy: export it from measurements, check its files, simulate it over a trace."
MISMATCH_EXIT_CODE = 1


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated percentages such as 15,30,50; received {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    export = sub.add_parser("export", help="build a policy from a study's or session's measurements",
                            description="Build a policy: per battery band x charging x thermal status 0..6, the "
                            "most accurate variant known to meet the constraints; else the fallback (README: the order).")
    where = export.add_mutually_exclusive_group(required=True)
    where.add_argument("--study", metavar="S", help="a study (folder, study.json or name under <workspace>/studies)")
    where.add_argument("--session", metavar="S", help="a results-store session")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--device", metavar="D", help="the device model (or device id) the policy is for")
    which.add_argument("--devices", metavar="D1,D2", help="one policy per device model (name each model once),"
                       " written into the folder -o")
    export.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="the policy JSON (--device), or a folder for policy-<model>.json files (--devices)")
    export.add_argument("--latency-budget-ms", type=float, default=None, metavar="MS", help="p90 latency budget")
    export.add_argument("--accuracy-floor", type=float, default=None, metavar="A", help="lowest test accuracy (0..1)")
    export.add_argument("--energy-budget-mj", type=float, default=None, metavar="MJ", help="energy per inference budget")
    export.add_argument("--battery-life-h", type=float, default=None, metavar="H",
                        help="energy budget as a battery life: keep H hours of inference at --rate from each battery band")
    export.add_argument("--rate", type=float, default=None, metavar="HZ", help="inferences per second (only with --battery-life-h)")
    export.add_argument("--battery-mah", type=float, default=None, metavar="MAH", help="battery capacity, when the device record has none")
    export.add_argument("--battery-v", type=float, default=None, metavar="V", help="battery nominal voltage (with --battery-mah)")
    export.add_argument("--inference-share", type=float, default=None, metavar="F",
                        help="share of the battery inference may use (with --battery-life-h; default 1)")
    export.add_argument("--battery-bands", type=_floats, default=None, metavar="P1,P2",
                        help="battery band edges in %% (default 15,30,50: bands 0-15, 15-30, 30-50, 50-100)")
    export.add_argument("--allow-other-device-model", action="store_true",
                        help="use a variant measured only on another device model (marked in the JSON)")
    export.add_argument("--exclude-indicative", action="store_true",
                        help="leave out variants measured only with a shortened (smoke) protocol")
    check = sub.add_parser("check", help="are the files a policy names the files in MODEL_DIR (sha256)?")
    check.add_argument("policy", metavar="POLICY_JSON")
    check.add_argument("model_dir", metavar="MODEL_DIR")
    check.add_argument("--json", action="store_true", help="print JSON")
    simulate = sub.add_parser("simulate", help="replay a battery/thermal trace under the policy and two baselines")
    simulate.add_argument("policy", metavar="POLICY_JSON")
    simulate.add_argument("--trace", required=True, metavar="TRACE",
                          help="a CSV (time_s, battery_pct, charging, thermal_status) or run:RUN_ID of a stored run")
    simulate.add_argument("--rate", type=float, default=1.0, metavar="HZ", help="inferences per second (default 1)")
    simulate.add_argument("--thermal-status", type=int, default=None, choices=range(7), metavar="N",
                          help="thermal status for a stored run's trace (the sampler does not record it over time)")
    simulate.add_argument("-o", "--output", default=None, metavar="PNG", help="write the timeline plot here")
    simulate.add_argument("--json", action="store_true", help="print JSON")
    _add_run_arguments(sub)


def _add_run_arguments(sub: Any) -> None:
    from edgebench.cli.device_session import add_device_session_arguments

    run = sub.add_parser("run", help="run a device under the policy while it drains; measure each segment",
                         description="Run the policy's variants on a phone or virtual device as the policy says: "
                         "before each segment the device's harness reads its battery level, charging and thermal "
                         "status and runs the decision table's variant; each segment is stored as a battery run "
                         "(profile-battery's set-up, checks and energy), with the switches.")
    run.add_argument("policy", metavar="POLICY_JSON")
    run.add_argument("model_dir", metavar="MODEL_DIR", help="the folder of the policy's files (checked by sha256)")
    add_device_session_arguments(run)
    run.add_argument("--duration", type=float, required=True, metavar="S", help="seconds of workload in all")
    run.add_argument("--segment", type=float, default=None, metavar="S",
                     help="measured seconds per segment: the device re-reads its state and may switch after each"
                          " (30, or --duration when shorter)")
    run.add_argument("--warmup", type=float, default=2.0, metavar="S", help="warm-up per segment, not measured (2)")
    run.add_argument("--allow-other-device-model", action="store_true",
                     help="run a policy measured on another device model (recorded in the report)")
    run.add_argument("--json", action="store_true", help="print JSON: the segments, the switches, energy per variant")


def run(args: argparse.Namespace) -> int:
    if args.policy_command == "export":
        return _export(args)
    if args.policy_command == "check":
        return _check(args)
    if args.policy_command == "run":
        from edgebench.cli.policy_run_cmd import run_policy

        return run_policy(args)
    return _simulate(args)


BATTERY_LIFE_OPTIONS = (("--rate", "rate"), ("--battery-mah", "battery_mah"), ("--battery-v", "battery_v"),
                        ("--inference-share", "inference_share"))


def _check_energy_options(args: argparse.Namespace) -> None:
    """The options that only shape a battery-life budget are an error without --battery-life-h, not ignored."""
    from edgebench.errors import UsageError

    alone = [f"{flag} {getattr(args, name):g}" for flag, name in BATTERY_LIFE_OPTIONS if getattr(args, name) is not None]
    if args.battery_life_h is None and alone:
        raise UsageError(f"{', '.join(alone)} only set(s) a battery-life energy budget, and no --battery-life-h H was"
                         " given: add --battery-life-h H (hours of inference to keep at --rate HZ), or drop"
                         " them (--energy-budget-mj MJ sets a fixed budget per inference)")


def _thresholds(args: argparse.Namespace, device: Any) -> Any:
    from edgebench.errors import UsageError
    from edgebench.policy.export import DEFAULT_BANDS_PCT, BatteryLife, Thresholds, battery_capacity_mj

    life = None
    if args.battery_life_h is not None:
        if args.rate is None or not args.rate > 0 or not args.battery_life_h > 0:
            raise UsageError(f"--battery-life-h needs --rate HZ, both > 0; received {args.battery_life_h} h, {args.rate} Hz")
        share = 1.0 if args.inference_share is None else args.inference_share
        if not 0 < share <= 1:
            raise UsageError(f"--inference-share must be in (0, 1], received {share}")
        capacity, where = battery_capacity_mj(device, args.battery_mah, args.battery_v)
        life = BatteryLife(args.battery_life_h, args.rate, capacity, where, share)
    return Thresholds(latency_budget_p90_ms=args.latency_budget_ms, accuracy_floor=args.accuracy_floor,
                      energy_budget_mj=args.energy_budget_mj, battery_life=life,
                      battery_bands_pct=args.battery_bands or DEFAULT_BANDS_PCT)


def _export(args: argparse.Namespace) -> int:
    from edgebench.errors import UsageError
    from edgebench.policy.export import build_policy, policy_differences, policy_paths
    from edgebench.policy.measured import measured_variants
    from edgebench.policy.source import load_source

    _check_energy_options(args)
    source = load_source(study=args.study, session=args.session, workspace=args.workspace)
    devices = [args.device] if args.device else [d.strip() for d in args.devices.split(",") if d.strip()]
    policies: dict[str, dict[str, Any]] = {}
    asked_as: dict[str, str] = {}  # device model -> the --devices entry that named it
    for device in devices:
        variants, excluded, facts = measured_variants(source.table, device, source.runs, source.devices,
                                                      allow_other_device_model=args.allow_other_device_model)
        if facts.model in asked_as:
            raise UsageError(f"--devices {args.devices}: {asked_as[facts.model]!r} and {device!r} are both device model"
                             f" {facts.model!r}; a policy is per device model, built from the runs of all its devices"
                             f" ({', '.join(facts.device_ids)}), so name each model once")
        asked_as[facts.model] = device
        if args.exclude_indicative:
            from edgebench.policy.measured import Excluded
            excluded += [Excluded(v.name, v.sha256, "measured only with a shortened (smoke) protocol;"
                                  " --exclude-indicative") for v in variants if v.indicative]
            variants = [v for v in variants if not v.indicative]
        policy = build_policy(variants, excluded, facts, _thresholds(args, facts), dict(source.description))
        policies[facts.model] = policy
    paths = {m: Path(args.output) for m in policies} if args.device else policy_paths(args.output, list(policies))
    for model, policy in policies.items():
        path = paths[model]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(policy, indent=1, allow_nan=False) + "\n")
        _print_policy(model, policy, path)
    for line in policy_differences(policies) if len(policies) > 1 else []:
        print(line)
    return 0


def _print_policy(model: str, policy: dict[str, Any], path: Path) -> None:
    rows = policy["decision_table"]
    chosen: dict[str, int] = {}
    for row in rows:
        chosen[row["name"]] = chosen.get(row["name"], 0) + 1
    fallbacks = sum(1 for r in rows if not r["met"] and r.get("outcome", "fallback") == "fallback")
    not_known = sum(1 for r in rows if r.get("outcome") == "not_checked")
    print(f"{path}: policy for {model}, {len(policy['variants'])} variant(s), {len(rows)} states")
    for name, count in sorted(chosen.items(), key=lambda kv: -kv[1]):
        print(f"  {name}: {count} state(s)")
    if fallbacks:
        print(f"  fallback (no variant meets the constraints) in {fallbacks} state(s): see \"reason\" in the table")
    if not_known:
        print(f"  latency not known (never measured at that thermal status) in {not_known} state(s): the fastest"
              " of the variants not known to miss, outcome not_checked; see \"reason\" in the table")
    by_reason: dict[str, list[str]] = {}
    for excluded in policy["excluded"]:  # grouped: a study's variants are often left out for one reason
        reason = excluded["reason"].split(", not on ")[0] if excluded["reason"].startswith("measured only on") else excluded["reason"]
        by_reason.setdefault(reason, []).append(excluded["name"])
    for reason, names in by_reason.items():
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        print(f"  left out {len(names)}: {shown}: {reason}")
    if policy["indicative"]:
        print(f"  indicative: {policy['indicative_reason']}")


def _check(args: argparse.Namespace) -> int:
    from edgebench.policy.check import check_policy, read_policy

    result = check_policy(read_policy(args.policy), args.model_dir)
    if args.json:
        print(json.dumps({"ok": result.ok, "files": [vars(f) for f in result.files], "extra": list(result.extra)}, indent=1))
    else:
        for f in result.files:
            print(f"{f.outcome:15} {f.file}  ({f.name}): {f.detail}")
        for name in result.extra:
            print(f"{'extra':15} {name}: in the folder, not named by the policy")
        print("ok: every file the policy names is present with its sha256" if result.ok
              else "mismatch: the folder does not hold the files the policy was built from")
    return 0 if result.ok else MISMATCH_EXIT_CODE


def _load_trace(args: argparse.Namespace) -> Any:
    from edgebench.policy.trace import read_csv_trace, trace_from_samples

    if not args.trace.startswith("run:"):
        return read_csv_trace(args.trace)
    from edgebench.api import open_store
    from edgebench.errors import UsageError

    run_id = args.trace[len("run:"):]
    store = open_store(args.workspace)
    try:
        run = store.run(run_id)
        if run is None:
            raise UsageError(f"no stored run {run_id!r} (see `edgebench results list`); give run:RUN_ID of a stored run")
        return trace_from_samples(run, store.device_samples(run_id), args.thermal_status)
    finally:
        store.close()


def _fmt(value: float | None, unit: str, digits: str = ".4g") -> str:
    return "not known" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:{digits}} {unit}"


def _simulate(args: argparse.Namespace) -> int:
    from edgebench.policy.check import read_policy
    from edgebench.policy.simulate import simulate, simulation_json

    policy = read_policy(args.policy)
    sim = simulate(policy, _load_trace(args), args.rate)
    if args.output:
        from edgebench.policy.plot import plot_timeline

        plot_timeline(sim, args.output)
    if args.json:
        print(json.dumps(simulation_json(sim), indent=1))
        return 0
    print(f"trace {sim.trace_source}: {sim.duration_s:g} s at {sim.rate_hz:g} inferences/s")
    for note in sim.trace_notes:
        print(f"  note: {note}")
    for r in sim.results:
        energy = f"{r.energy_mj:.4g} mJ (predicted)" if r.energy_mj is not None else "not known"
        print(f"{r.label}: energy {energy}, p90 {_fmt(r.latency_p90_ms, 'ms')}"
              f" (worst {_fmt(r.worst_latency_p90_ms, 'ms')}), mean accuracy {_fmt(r.mean_accuracy, '', '.4f').strip()},"
              f" {r.switches} switch(es)")
    for r in sim.results:
        if r.energy_mj is None or r.strategy == "policy":
            print(f"energy of {r.label}: {r.energy_basis}")
    print("policy timeline:")
    last = None
    for span in sim.result("policy").spans:
        if span.variant != last:
            print(f"  {span.start_s:8.1f} s  battery {span.state.battery_pct:g} %, "
                  f"{'charging' if span.state.charging else 'discharging'}, thermal {span.state.thermal_status}: {span.variant}")
            last = span.variant
    if args.output:
        print(f"timeline plot: {args.output}")
    return 0

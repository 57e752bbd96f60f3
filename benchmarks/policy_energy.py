"""Energy and accuracy of a runtime variant policy vs always running the most accurate variant, over a 2-hour
simulated drain on a virtual device profile.

What is simulated, and from what:
- the battery: the virtual device's own model (virtual/gauge.BatteryModel with the profile's battery_model:
  capacity, OCV line, gauge rounding), drained by the profile's idle floor + screen-on power + the inference
  load of always-most-accurate (rate x energy per inference), stepped every second; the level the trace
  records is the gauge's whole-percent capacity, what an app reads;
- the thermal status: scripted, as `virtual-device --throttle` injects it (the profile's temperature model
  rises ~1 °C per W, too little to throttle on its own): 0, then a hot spell 1-2-3-2-1 from minute 30 to 75;
- the variants: five made-up variants of one image model (accuracies and status-0 latencies below, typical
  of a small CNN and its quantized forms), run on one big core: energy per inference = that core's power
  (the profile's cpu_mw_per_busy_core) x latency, marked `simulated`; latency at thermal status s = latency
  / the frequency fraction virtual/thermal.py applies at s (statuses 0-3 "measured", so the policy sees
  the throttled figures).
The trace is replayed open-loop (`policy simulate`): the battery drains as under always-most-accurate, so the
policy sees lower levels than it would have made; that over-states the accuracy it gives up, not the saving.

Run:  .venv/bin/python benchmarks/policy_energy.py [--profile pixel-8-like] [--rate 10] [--life-h 6]
      [--share 0.3] [--start-pct 50] [--latency-budget-ms 30] [--accuracy-floor 0.86] [-o timeline.png]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from edgebench.policy.export import BatteryLife, Thresholds, build_policy
from edgebench.policy.measured import DeviceFacts, MeasuredVariant, ThermalLatency
from edgebench.policy.simulate import simulate, simulation_json
from edgebench.policy.trace import read_csv_trace
from edgebench.virtual.gauge import BatteryModel
from edgebench.virtual.profiles import load_profile
from edgebench.virtual.thermal import FREQ_FRACTION

# name -> (test accuracy, median latency ms at thermal status 0); p90 = 1.1 x median
VARIANTS = {"fp32": (0.915, 24.0), "float16": (0.914, 20.0), "dynamic_range": (0.905, 12.0),
            "int8": (0.890, 7.0), "prune:0.5+int8": (0.870, 6.0)}
DURATION_S = 2 * 3600
HOT_SPELL = [(30 * 60, 1), (39 * 60, 2), (48 * 60, 3), (57 * 60, 2), (66 * 60, 1), (75 * 60, 0)]


def variants(core_mw: float) -> list[MeasuredVariant]:
    out = []
    for index, (name, (accuracy, median_ms)) in enumerate(VARIANTS.items()):
        latency = tuple(ThermalLatency(s, median_ms / FREQ_FRACTION[s], 1.1 * median_ms / FREQ_FRACTION[s], 3, True)
                        for s in range(4))
        energy = core_mw * median_ms / 1000.0  # mW x s = mJ
        out.append(MeasuredVariant(
            name=name, sha256=f"{index:064x}", file_name=f"{name}.tflite", config="cpu/1t", size_bytes=float("nan"),
            accuracy=accuracy, latency=latency, energy_median_mj=energy, energy_ci_mj=(0.95 * energy, 1.05 * energy, 0.75),
            energy_runs=3, energy_source="simulated", latency_source="simulated", device_model="virtual", indicative=False))
    return out


def thermal_at(t_s: float) -> int:
    status = 0
    for start, value in HOT_SPELL:
        if t_s >= start:
            status = value
    return status


def drain_trace(profile_name: str, start_pct: float, load_mw: float, path: Path) -> None:
    profile = load_profile(profile_name)
    spec = profile.battery
    battery = BatteryModel(spec, capacity_pct=start_pct, voltage_uv=int(profile.power_supply["battery"]["voltage_now"]),
                           temp_decic=int(profile.power_supply["battery"]["temp"]), seed="policy-benchmark")
    battery.set_level(start_pct)
    lines = ["time_s,battery_pct,charging,thermal_status"]
    level = start_pct
    for second in range(DURATION_S + 1):
        if second % 10 == 0 or second == DURATION_S:
            lines.append(f"{second},{level:g},false,{thermal_at(second)}")
        reading = battery.step(1.0, spec.idle_floor_mw + spec.screen_on_mw + load_mw, charger_online=False,
                               input_suspended=False)
        level = reading.capacity_pct
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="pixel-8-like")
    parser.add_argument("--rate", type=float, default=10.0, help="inferences per second")
    parser.add_argument("--life-h", type=float, default=6.0, help="battery-life target of the energy budget (0: none)")
    parser.add_argument("--share", type=float, default=0.3, help="share of the battery inference may use")
    parser.add_argument("--start-pct", type=float, default=50.0)
    parser.add_argument("--latency-budget-ms", type=float, default=30.0)
    parser.add_argument("--accuracy-floor", type=float, default=0.86)
    parser.add_argument("-o", "--output", default=None, help="timeline PNG")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    profile = load_profile(args.profile)
    spec = profile.battery
    core_mw = spec.cpu_mw_per_busy_core[-1]
    nominal_v = (spec.voltage_empty_uv + spec.voltage_full_uv) / 2e6
    capacity_mj = spec.charge_full_uah / 1000.0 * nominal_v * 3600.0
    thresholds = Thresholds(latency_budget_p90_ms=args.latency_budget_ms, accuracy_floor=args.accuracy_floor,
                            battery_life=BatteryLife(args.life_h, args.rate, capacity_mj,
                                                     f"{args.profile} battery_model", args.share) if args.life_h > 0 else None)
    measured = variants(core_mw)
    policy = build_policy(measured, [], DeviceFacts(args.profile, ("virtual",)), thresholds, {"benchmark": True})
    accurate = max(measured, key=lambda v: v.accuracy)
    with tempfile.TemporaryDirectory() as tmp:
        trace_path = Path(tmp) / "drain.csv"
        drain_trace(args.profile, args.start_pct, accurate.energy_median_mj * args.rate, trace_path)
        trace = read_csv_trace(trace_path)
    sim = simulate(policy, trace, args.rate)
    if args.output:
        from edgebench.policy.plot import plot_timeline

        plot_timeline(sim, args.output)
    mine, best = sim.result("policy"), sim.result("most_accurate")
    assert mine.energy_mj is not None and best.energy_mj is not None
    if args.json:
        print(json.dumps(simulation_json(sim) | {"policy": policy["thresholds"]}, indent=1, default=str))
        return
    print(f"profile {args.profile}: battery {capacity_mj / 1e6:.1f} kJ, big core {core_mw:g} mW; {args.rate:g} inferences/s"
          f" for 2 h from {args.start_pct:g} % (trace ends at {trace.points[-1].battery_pct:g} %)")
    energy_text = f"keep {args.life_h:g} h at {args.share:.0%} of the battery" if args.life_h > 0 else "no energy budget"
    print(f"constraints: p90 <= {args.latency_budget_ms:g} ms, accuracy >= {args.accuracy_floor:g}, {energy_text};"
          " hot spell thermal 1-2-3-2-1 from minute 30 to 75")
    for name, (accuracy, median_ms) in VARIANTS.items():
        v = next(x for x in measured if x.name == name)
        print(f"  {name:15} accuracy {accuracy:.3f}  p50 {median_ms:5.1f} ms  {v.energy_median_mj:5.1f} mJ (simulated)")
    for result in sim.results:
        share = {k: f"{v / 60:.0f} min" for k, v in result.time_by_variant_s.items()}
        print(f"{result.label:38} energy {result.energy_mj / 1000 if result.energy_mj else float('nan'):7.1f} J (predicted)"
              f"  mean accuracy {result.mean_accuracy:.4f}  p90 {result.latency_p90_ms:5.1f} ms"
              f" (worst {result.worst_latency_p90_ms:5.1f})  {share}")
    print(f"policy vs always most accurate: energy saved {1 - mine.energy_mj / best.energy_mj:.1%}"
          f" ({(best.energy_mj - mine.energy_mj) / 1000:.1f} J), accuracy given up"
          f" {(best.mean_accuracy - mine.mean_accuracy) * 100:.2f} points;"
          f" always-most-accurate's worst p90 {best.worst_latency_p90_ms:.1f} ms vs budget {args.latency_budget_ms:g} ms")


if __name__ == "__main__":
    main()

"""The cpu_frequency check: were the cores the workload ran on at their ceiling during the timed loop?

Judged: only the workload's cores (idle cores change frequency all the time under schedutil/DVFS),
only the samples inside the timed loop (the sampler starts before the runner and stops after it),
against each sample's ceiling in force (scaling_max_freq), not the run's own typical value: a run
slowed from start to finish has a low typical value and would pass. A ceiling lowered below the
hardware maximum (cpuinfo_max_freq) fails while the thermal state shows mitigation; without it the
cap is a setting (fixed-performance mode, a power limit) and is reported, not failed. Under the
`userspace` governor (locked clocks) the reference is the locked frequency, the run's modal value.
"""
from __future__ import annotations

from edgebench.harness.output import HarnessOutput
from edgebench.harness.samples import CoreFrequency, FreqSample, Telemetry
from edgebench.records import Check

# A sample of a workload core below this fraction of its ceiling counts as slowed...
FREQ_DROP_FRACTION = 0.90
# ...and more than this share of such samples invalidates the run.
FREQ_DROP_MAX_SHARE = 0.05
# Fewer samples inside the timed loop than this give no verdict (one sample would decide alone).
MIN_FREQ_SAMPLES = 5


def timed_window_ns(output: HarnessOutput) -> tuple[int, int] | None:
    """(first timed start, last timed end) on CLOCK_BOOTTIME, the sampler's clock; None when nothing was timed."""
    if not output.timed:
        return None
    last = output.timed[-1]
    return output.timed[0].start_ns, last.start_ns + round(last.latency_us * 1000)


def mask_cpus(mask: str) -> tuple[int, ...]:
    """CPU numbers of a hex taskset mask ("f0", "0xF0")."""
    value = int(mask.lower().removeprefix("0x"), 16)
    return tuple(n for n in range(value.bit_length()) if value >> n & 1)


def workload_cpus(output: HarnessOutput, cpu_mask: str | None, device_kind: str | None = None
                  ) -> tuple[tuple[int, ...] | None, str]:
    """The cores the runner's threads ran on, and how that is known (None, why: unknown).

    The runner's own observation (resources.cpus_seen) first, kept inside the mask when there is one.
    A virtual device's processes run on this host's CPUs, so its runner's CPU numbers do not name the
    device's cores: only the mask does there."""
    seen = output.cpus_seen if device_kind != "virtual" else None
    if cpu_mask:
        pinned = mask_cpus(cpu_mask)
        inside = tuple(c for c in seen or () if c in pinned)
        if inside:
            return inside, f"cores the runner's threads were seen on, inside mask {cpu_mask}"
        return pinned, f"cores of CPU mask {cpu_mask}"
    if seen:
        return seen, "cores the runner's threads were seen on"
    if device_kind == "virtual":
        return None, ("no CPU mask, and a virtual device's runner runs on the host's CPUs, which are not the "
                      "device's cores")
    return None, "no CPU mask, and the runner did not report the CPUs its threads ran on (runner < 1.1.0)"


def frequency_check(t: Telemetry, *, window_ns: tuple[int, int] | None, cpus: tuple[int, ...] | None,
                    cpus_source: str = "") -> Check:
    if not t.cores:
        return Check("cpu_frequency", "not_checked", "target exposes no cpufreq (scaling_cur_freq) to sample")
    if window_ns is None:
        return Check("cpu_frequency", "not_checked", "no timestamps of the timed loop to place the samples in")
    if not cpus:
        return Check("cpu_frequency", "not_checked", f"unknown which cores the workload ran on: {cpus_source}")
    by_cpu = {c.cpu: c for c in t.cores}
    missing = [c for c in cpus if c not in by_cpu]
    if missing:
        return Check("cpu_frequency", "not_checked", "no scaling_cur_freq samples for "
                     + ", ".join(f"cpu{c}" for c in missing) + f" ({cpus_source})")
    thermal = (t.thermal_status_max is not None and t.thermal_status_max >= 1) or any(s > 0 for _, s in t.cooling_states)
    failures: list[str] = []
    notes: list[str] = []
    for cpu in cpus:
        core = by_cpu[cpu]
        inside = [s for s in core.samples if window_ns[0] <= s.t_ns <= window_ns[1]]
        if len(inside) < MIN_FREQ_SAMPLES:
            seconds = (window_ns[1] - window_ns[0]) / 1e9
            return Check("cpu_frequency", "not_checked",
                         f"{len(inside)} frequency samples of cpu{cpu} inside the {seconds:.2f} s timed loop; "
                         f"a verdict needs {MIN_FREQ_SAMPLES}: run longer (--min-seconds)")
        outcome, text = _judge_core(core, inside, thermal)
        if outcome == "not_checked":
            return Check("cpu_frequency", "not_checked", text)
        if text:
            (failures if outcome == "fail" else notes).append(text)
    reason = "; ".join(failures + notes) or None
    judged = f"judged {', '.join(f'cpu{c}' for c in cpus)} ({cpus_source})"
    return Check("cpu_frequency", "fail" if failures else "pass", f"{reason}; {judged}" if reason else judged)


def _judge_core(core: CoreFrequency, inside: list[FreqSample], thermal: bool) -> tuple[str, str | None]:
    """(outcome, why or a note) for one workload core's samples inside the timed loop."""
    name = f"cpu{core.cpu}"
    if core.governor == "userspace":
        freqs = [s.cur_khz for s in inside]
        locked = max(set(freqs), key=freqs.count)
        low = sum(1 for f in freqs if f < FREQ_DROP_FRACTION * locked)
        if low / len(freqs) > FREQ_DROP_MAX_SHARE:
            return "fail", (f"{name} below {FREQ_DROP_FRACTION:.0%} of its locked {locked} kHz (userspace "
                            f"governor) in {low}/{len(freqs)} samples")
        return "pass", None
    maybe_ceilings = [s.ceiling_khz if s.ceiling_khz is not None else core.ceiling_before_khz or core.hardware_max_khz
                      for s in inside]
    if any(c is None for c in maybe_ceilings):
        return "not_checked", f"no ceiling known for {name}: scaling_max_freq and cpuinfo_max_freq unreadable"
    ceilings = [c for c in maybe_ceilings if c is not None]
    slow = [s.cur_khz < FREQ_DROP_FRACTION * c for s, c in zip(inside, ceilings)]
    low = sum(slow)
    if low / len(inside) > FREQ_DROP_MAX_SHARE:
        span = f"{min(ceilings)}" if min(ceilings) == max(ceilings) else f"{min(ceilings)}-{max(ceilings)}"
        # All at the start: the governor was still ramping up from the idle gap before the loop.
        ramp = (" (all at the loop's start: the governor ramping up; a protocol with warm-up seconds avoids it)"
                if all(slow[:low]) else "")
        return "fail", (f"{name} below {FREQ_DROP_FRACTION:.0%} of its ceiling ({span} kHz) "
                        f"in {low}/{len(inside)} samples{ramp}")
    if min(ceilings) < FREQ_DROP_FRACTION * max(ceilings):
        return "fail", f"{name} ceiling changed from {max(ceilings)} to {min(ceilings)} kHz during the timed loop"
    top = core.hardware_max_khz
    if top is not None and min(ceilings) < FREQ_DROP_FRACTION * top:
        capped = f"{name} ceiling {min(ceilings)} kHz of its {top} kHz hardware maximum"
        if thermal:
            return "fail", capped + " while thermal mitigation was active"
        return "pass", capped + " (a cap, not thermal: fixed-performance mode or a power limit)"
    return "pass", None

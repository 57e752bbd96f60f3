import json

from edgebench.bench.checks import Telemetry, evaluate, is_invalid
from edgebench.harness.output import parse_harness_output
from edgebench.harness.samples import telemetry_from
from edgebench.harness.state import DeviceState
from edgebench.store import DeviceSample
from edgebench.protocols import resolve
from edgebench.records import RunConfig


def _output(n_runs=60, latency=1000.0, accel_used="cpu", fully=None, warmups=5, t0_ns=0, cpus_seen=None):
    lines = [{"type": "start", "runner_version": "1", "boottime_ns": 0},
             {"type": "setup", "inputs": [], "outputs": [], "threads": 1, "accelerator_requested": "cpu",
              "accelerator_used": accel_used, "fallback_reason": "no adapter" if accel_used == "cpu" else None,
              "fully_accelerated": fully}]
    lines += [{"type": "warmup", "index": i, "latency_us": latency, "start_ns": 0} for i in range(warmups)]
    lines += [{"type": "run", "index": i, "latency_us": latency, "start_ns": t0_ns + int(i * latency * 1000)}
              for i in range(n_runs)]
    lines += [{"type": "summary", "count": n_runs, "min_us": latency, "median_us": latency, "max_us": latency},
              {"type": "resources", "peak_rss_kb": 1, "threads_observed": 1, "cpus_seen": cpus_seen},
              {"type": "end", "status": "ok", "exit_code": 0}]
    return parse_harness_output("\n".join(json.dumps({"schema": 1, **l}) for l in lines))


def _by_name(checks):
    return {c.name: c for c in checks}


def test_clean_smoke_run_is_valid_and_unknowns_are_not_checked():
    checks = _by_name(evaluate(_output(), resolve("smoke"), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_runs"].outcome == "pass" and checks["warmup"].outcome == "pass"
    assert checks["thermal"].outcome == "not_checked" and checks["thermal"].reason
    assert checks["cpu_frequency"].outcome == "not_checked"
    assert checks["battery_level"].outcome == "not_checked"
    assert not is_invalid(checks.values())


def test_too_few_runs_or_seconds_invalidate():
    checks = _by_name(evaluate(_output(n_runs=20), resolve("smoke"), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_runs"].outcome == "fail" and "20 timed runs < 50" in checks["timed_runs"].reason
    checks = _by_name(evaluate(_output(n_runs=300), resolve("standard"), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_seconds"].outcome == "fail"  # 300 × 1 ms = 0.3 s < 10 s
    assert is_invalid(checks.values())


def test_shortened_is_advisory():
    checks = _by_name(evaluate(_output(n_runs=10), resolve("smoke", runs=10), RunConfig(1, "cpu"), Telemetry()))
    assert checks["shortened"].outcome == "fail" and checks["shortened"].advisory
    assert not is_invalid(checks.values())


def test_accelerator_fallback_invalidates_with_the_reason():
    checks = _by_name(evaluate(_output(accel_used="cpu"), resolve("smoke"), RunConfig(1, "gpu"), Telemetry()))
    assert checks["accelerator"].outcome == "fail" and "no adapter" in checks["accelerator"].reason
    assert checks["fully_accelerated"].outcome == "not_checked"


def test_throttling_and_low_battery_invalidate():
    t = Telemetry(cooling_states=(("cooling_device0", 2),), battery_level_pct=12, has_battery=True)
    checks = _by_name(evaluate(_output(), resolve("smoke"), RunConfig(1, "cpu"), t))
    assert checks["thermal"].outcome == "fail" and "cooling_device0" in checks["thermal"].reason
    assert checks["battery_level"].outcome == "fail"


def test_timed_span_a_hair_under_the_minimum_passes():
    """The runner's loop clock starts just before the first stamp: 2 s by its clock is 1.9999 s by the stamps
    (seen: "timed loop lasted 2.00 s < 2 s required" on good runs)."""
    out = _output(n_runs=2000, latency=999.95)
    checks = _by_name(evaluate(out, resolve("smoke", min_seconds=2), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_seconds"].outcome == "pass"
    short = _output(n_runs=1900, latency=1000.0)
    checks = _by_name(evaluate(short, resolve("smoke", min_seconds=2), RunConfig(1, "cpu"), Telemetry()))
    assert checks["timed_seconds"].outcome == "fail"


# -- cpu_frequency: a 2 s timed loop from t = 1 s; the sampler (every 100 ms) starts before and stops after it.
LOOP = dict(n_runs=2000, latency=1000.0, t0_ns=1_000_000_000)
CPU = "/sys/devices/system/cpu/cpu{}/cpufreq/{}"


def _samples(freq_of, cpus=range(8), ceiling_of=None, start_ms=0, end_ms=3500, step_ms=100):
    """Samples every step: freq_of(cpu, t_ms) kHz; ceiling_of(cpu, t_ms) for scaling_max_freq when given."""
    out = []
    for t_ms in range(start_ms, end_ms + 1, step_ms):
        for cpu in cpus:
            out.append(DeviceSample(t_ms * 1_000_000, CPU.format(cpu, "scaling_cur_freq"), str(freq_of(cpu, t_ms))))
            if ceiling_of is not None:
                out.append(DeviceSample(t_ms * 1_000_000, CPU.format(cpu, "scaling_max_freq"),
                                        str(ceiling_of(cpu, t_ms))))
    return out


def _state(hw_max=2_000_000, ceiling=2_000_000, governor="schedutil", cpus=range(8)):
    nodes = {}
    for cpu in cpus:
        nodes[CPU.format(cpu, "cpuinfo_max_freq")] = str(hw_max)
        nodes[CPU.format(cpu, "scaling_max_freq")] = str(ceiling)
        nodes[CPU.format(cpu, "scaling_governor")] = governor
    return DeviceState({}, nodes)


def _freq_check(samples, state=None, cpus_seen=(4,), mask=None, thermal=None, device_kind="phone"):
    from dataclasses import replace

    telemetry = telemetry_from(samples, state) if state is not None else telemetry_from(samples)
    if thermal is not None:
        telemetry = replace(telemetry, cooling_states=thermal)
    out = _output(**LOOP, cpus_seen=list(cpus_seen) if cpus_seen is not None else None)
    return _by_name(evaluate(out, resolve("smoke", min_seconds=2), RunConfig(1, "cpu", mask), telemetry,
                             device_kind=device_kind))["cpu_frequency"]


def _busy_core_idle_others(cpu, t_ms):
    """cpu4 runs the workload (its ceiling inside the loop, idle before and after); the others flap (DVFS)."""
    if cpu == 4:
        return 2_000_000 if 1000 <= t_ms <= 3000 else 300_000
    return 300_000 if (t_ms // 100 + cpu) % 3 else 1_800_000


def test_idle_cores_and_samples_outside_the_loop_do_not_invalidate():
    check = _freq_check(_samples(_busy_core_idle_others), _state())
    assert check.outcome == "pass", check.reason
    assert "cpu4" in check.reason and "cpu0" not in check.reason  # names what it judged


def test_workload_core_below_its_ceiling_inside_the_loop_fails():
    def slowed(cpu, t_ms):
        return 1_200_000 if cpu == 4 and 1500 <= t_ms <= 2000 else _busy_core_idle_others(cpu, t_ms)

    check = _freq_check(_samples(slowed), _state())
    assert check.outcome == "fail" and "cpu4 below 90% of its ceiling (2000000 kHz) in 6/21 samples" in check.reason
    assert "ramping up" not in check.reason


def test_a_slow_start_of_the_loop_fails_and_says_it_is_the_ramp_up():
    """No warm-up time (smoke): the first samples can catch the governor ramping up. Those inferences did run
    slower, so the run is not passed, but the reason says what to do."""
    def ramping(cpu, t_ms):
        return 1_500_000 if cpu == 4 and 1000 <= t_ms < 1200 else _busy_core_idle_others(cpu, t_ms)

    check = _freq_check(_samples(ramping), _state())
    assert check.outcome == "fail" and "2/21 samples (all at the loop's start: the governor ramping up" in check.reason


def test_run_throttled_from_start_to_finish_fails():
    """Its modal value is the throttled one, so a modal comparison passes it; the ceiling says otherwise."""
    def throttled(cpu, t_ms):
        return 1_000_000 if cpu == 4 else 300_000

    samples = _samples(throttled, ceiling_of=lambda cpu, t: 1_000_000)
    check = _freq_check(samples, _state(ceiling=1_000_000), thermal=(("cooling_device1", 3),))
    assert check.outcome == "fail"
    assert "cpu4 ceiling 1000000 kHz of its 2000000 kHz hardware maximum while thermal mitigation" in check.reason
    # The same cap with no thermal mitigation is a setting (fixed-performance mode): reported, not failed.
    check = _freq_check(samples, _state(ceiling=1_000_000), thermal=())
    assert check.outcome == "pass" and "a cap, not thermal" in check.reason


def test_ceiling_lowered_during_the_loop_fails():
    def ceiling(cpu, t_ms):
        return 2_000_000 if t_ms < 2000 else 1_200_000

    samples = _samples(lambda cpu, t: min(ceiling(cpu, t), 2_000_000) if cpu == 4 else 300_000, ceiling_of=ceiling)
    check = _freq_check(samples, _state())
    assert check.outcome == "fail" and "cpu4 ceiling changed from 2000000 to 1200000 kHz" in check.reason


def test_too_few_samples_inside_the_loop_is_not_checked():
    check = _freq_check(_samples(_busy_core_idle_others, step_ms=1000), _state())
    assert check.outcome == "not_checked" and "3 frequency samples of cpu4 inside the 2.00 s timed loop" in check.reason


def test_unknown_workload_cores_are_not_checked_and_a_mask_names_them():
    check = _freq_check(_samples(_busy_core_idle_others), _state(), cpus_seen=None)
    assert check.outcome == "not_checked" and "no CPU mask" in check.reason
    check = _freq_check(_samples(_busy_core_idle_others), _state(), cpus_seen=None, mask="10")  # cpu4
    assert check.outcome == "pass" and "mask 10" in check.reason
    # A runner whose CPU numbers are not the device's (a virtual device runs on the host's CPUs): the mask.
    check = _freq_check(_samples(_busy_core_idle_others), _state(), cpus_seen=(0,), mask="10")
    assert check.outcome == "pass" and "cpu4" in check.reason


def test_a_virtual_devices_runner_cpus_are_the_hosts_so_only_a_mask_names_its_cores():
    """Seen in a two-virtual-device session: the runner ran on host CPU 0, the device's cpu0 is an idle little core."""
    check = _freq_check(_samples(_busy_core_idle_others), _state(), cpus_seen=(0,), device_kind="virtual")
    assert check.outcome == "not_checked" and "virtual device" in check.reason
    check = _freq_check(_samples(_busy_core_idle_others), _state(), cpus_seen=(4,), mask="1", device_kind="virtual")
    assert check.outcome == "fail" and "judged cpu0 (cores of CPU mask 1)" in check.reason


def test_locked_clocks_are_judged_against_the_locked_frequency():
    """userspace governor (lockClocks.sh): cores sit at about half their maximum on purpose."""
    check = _freq_check(_samples(lambda cpu, t: 1_000_000), _state(governor="userspace"))
    assert check.outcome == "pass", check.reason
    dips = _samples(lambda cpu, t: 600_000 if 1200 <= t <= 1500 else 1_000_000)
    check = _freq_check(dips, _state(governor="userspace"))
    assert check.outcome == "fail" and "locked 1000000 kHz" in check.reason


def test_no_ceiling_known_is_not_checked():
    check = _freq_check(_samples(_busy_core_idle_others), None)
    assert check.outcome == "not_checked" and "no ceiling known for cpu4" in check.reason

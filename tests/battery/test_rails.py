"""ODPM rail energy per inference from synthetic energy_value reads with known, constant powers.

The synthetic meter behaves like the Pixel ODPM driver: it accumulates every 176 ms, stamps each
row with T=<ms> on its own clock (here 500 s behind CLOCK_BOOTTIME), and the sampler reads the
file every 88 ms. Two meters (iio:device0, iio:device1), as on Pixel 6+.
"""
from __future__ import annotations

import math

import pytest

from edgebench.battery import Windows, mean_ci95
from edgebench.battery.rails import RunRails, estimate_rails, is_soc_rail, summarize_rails

T0 = 1000.0
UPDATE_MS = 176
READ_S = 0.088  # half the update period, in phase: every other read lands on an update
DRIVER_OFFSET_S = 500.0
WINDOWS = Windows(idle_pre=(1000.5, 1010.0), warmup=(1010.0, 1012.0), measured=(1012.0, 1032.0),
                  idle_post=(1033.0, 1040.0))
N = 400
# Power steps (start time, mW). The workload starts 0.3 s after workload_start and ends 0.5 s after
# the last inference, so no update bracketing a window edge straddles a power change.
CPU = [(0.0, 100.0), (1010.3, 900.0), (1032.5, 100.0)]
MID = [(0.0, 20.0), (1010.3, 170.0), (1032.5, 20.0)]
GPU = [(0.0, 12.0)]
DISPLAY = [(0.0, 500.0), (1010.3, 520.0), (1032.5, 500.0)]
METERS = {"iio:device0": [("S4M_VDD_CPUCL0", CPU), ("S3M_VDD_CPUCL1", MID), ("VSYS_PWR_DISPLAY", DISPLAY)],
          "iio:device1": [("S2S_VDD_G3D", GPU)]}
SUBSYSTEMS = {"S4M_VDD_CPUCL0": "CPU(LITTLE)", "S3M_VDD_CPUCL1": "CPU(MID)", "S2S_VDD_G3D": "GPU",
              "VSYS_PWR_DISPLAY": "Display"}


def energy_uws(steps: list[tuple[float, float]], t: float) -> float:
    """∫ power from T0 to t, in µWs (mW·s × 1000)."""
    total = 0.0
    for i, (start, mw) in enumerate(steps):
        end = steps[i + 1][0] if i + 1 < len(steps) else math.inf
        lo, hi = max(start, T0), min(end, t)
        if hi > lo:
            total += mw * (hi - lo) * 1000.0
    return total


def reads(*, until: float = 1040.5, restart_update: int | None = None,
          meters: dict = METERS) -> list[tuple[int, str, str | None]]:
    """The sampler's (t_ns, channel, text) reads. `restart_update`: iio:device0's counters and
    T clock restart from 0 right after that update (a driver reset)."""
    samples = []
    j = 0
    while T0 + j * READ_S <= until:
        t_read = T0 + j * READ_S
        k = j // 2  # the last update at or before this read
        for device, rails in meters.items():
            u = T0 + k * UPDATE_MS / 1000.0
            t_ms = int(round((T0 - DRIVER_OFFSET_S) * 1000)) + k * UPDATE_MS
            base_t = None
            if device == "iio:device0" and restart_update is not None and k > restart_update:
                t_ms = (k - restart_update) * UPDATE_MS
                base_t = T0 + restart_update * UPDATE_MS / 1000.0
            lines = [f"t={t_ms}"]
            for index, (name, steps) in enumerate(rails):
                value = energy_uws(steps, u) - (energy_uws(steps, base_t) if base_t is not None else 0.0)
                lines.append(f"CH{index}(T={t_ms})[{name}], {int(value)}")
            samples.append((int(round(t_read * 1e9)), f"/sys/bus/iio/devices/{device}/energy_value",
                            "\n".join(lines)))
        samples.append((int(round(t_read * 1e9)), "/sys/class/power_supply/battery/current_now", "-250000"))
        j += 1
    return samples


def by_name(run: RunRails) -> dict:
    return {r.name: r for r in run.rails}


def test_constant_powers_give_exact_window_powers_and_energy_per_inference():
    run = estimate_rails(reads(), WINDOWS, N, subsystems=SUBSYSTEMS)
    assert run.available and run.reason is None and run.measured_seconds == 20.0
    rails = by_name(run)
    cpu = rails["S4M_VDD_CPUCL0"]
    assert cpu.soc and cpu.subsystem == "CPU(LITTLE)" and cpu.device == "iio:device0" and cpu.restarts == 0
    assert cpu.idle_pre_power_mw == pytest.approx(100.0, rel=1e-5)
    assert cpu.measured_power_mw == pytest.approx(900.0, rel=1e-5)
    assert cpu.idle_post_power_mw == pytest.approx(100.0, rel=1e-5)
    assert cpu.energy_per_inference_mj == pytest.approx(800.0 * 20 / N, rel=1e-5)  # 40 mJ
    assert rails["S3M_VDD_CPUCL1"].energy_per_inference_mj == pytest.approx(150.0 * 20 / N, rel=1e-5)
    assert rails["S2S_VDD_G3D"].soc and rails["S2S_VDD_G3D"].device == "iio:device1"
    assert rails["S2S_VDD_G3D"].energy_per_inference_mj == pytest.approx(0.0, abs=1e-4)
    display = rails["VSYS_PWR_DISPLAY"]
    assert not display.soc and display.energy_per_inference_mj == pytest.approx(20.0 * 20 / N, rel=1e-5)
    # The SoC figure sums CPU clusters and GPU, not the display.
    assert run.soc_energy_per_inference_mj == pytest.approx((800.0 + 150.0) * 20 / N, rel=1e-5)
    assert run.to_json()["rails"][0]["name"]


def test_a_counter_restart_is_stitched():
    restart = int((1020.0 - T0) * 1000) // UPDATE_MS + 1  # inside the measured window
    run = estimate_rails(reads(restart_update=restart), WINDOWS, N, subsystems=SUBSYSTEMS)
    cpu = by_name(run)["S4M_VDD_CPUCL0"]
    assert cpu.restarts == 1 and any("restarted 1x" in note for note in run.notes)
    assert cpu.measured_power_mw == pytest.approx(900.0, rel=1e-5)
    assert cpu.energy_per_inference_mj == pytest.approx(40.0, rel=1e-5)
    assert run.soc_energy_per_inference_mj == pytest.approx(47.5, rel=1e-5)
    assert by_name(run)["S2S_VDD_G3D"].restarts == 0  # the other meter did not restart


def test_no_energy_value_file_means_not_available_with_a_reason():
    battery_only = [s for s in reads(until=1040.5) if "iio" not in s[1]]
    run = estimate_rails(battery_only, WINDOWS, N)
    assert not run.available and run.soc_energy_per_inference_mj is None
    assert "energy_value" in run.reason and run.rails == ()


def test_an_unreadable_energy_value_means_not_available():
    unreadable = [(t, c, None if "iio" in c else v) for t, c, v in reads()]
    run = estimate_rails(unreadable, WINDOWS, N)
    assert not run.available and "never read" in run.reason and "shell user" in run.reason


def test_a_window_the_counter_does_not_cover_gives_none_with_a_reason():
    short = [s for s in reads() if s[0] <= 1036.0 * 1e9]  # the reads stop 4 s into the 7 s idle_post
    run = estimate_rails(short, WINDOWS, N, subsystems=SUBSYSTEMS)
    cpu = by_name(run)["S4M_VDD_CPUCL0"]
    assert cpu.idle_post_power_mw is None and cpu.energy_per_inference_mj is None and "cover" in cpu.reason
    assert run.available and run.soc_energy_per_inference_mj is None and "S4M_VDD_CPUCL0" in run.soc_reason


def test_no_soc_rail():
    run = estimate_rails(reads(meters={"iio:device0": [("VSYS_PWR_MODEM", GPU)]}), WINDOWS, N)
    assert run.available and run.soc_energy_per_inference_mj is None and "no SoC rail" in run.soc_reason


@pytest.mark.parametrize("name, subsystem, soc", [
    ("S4M_VDD_CPUCL0", "CPU(LITTLE)", True), ("S2S_VDD_G3D", None, True), ("S10M_VDD_TPU", "TPU", True),
    ("L2S_VDD_NPU", None, True), ("VDD_CDSP", "DSP", True), ("VSYS_PWR_DISPLAY", "Display", False),
    ("VSYS_PWR_MODEM", "Modem", False), ("VSYS_PWR_INPUT", None, False), ("S1M_VDD_MIF", "Memory", False),
    ("PPVAR_VSYS_PWR_DISP", "display", False)])
def test_soc_rails(name, subsystem, soc):
    assert is_soc_rail(name, subsystem) is soc


def _run(value: float | None) -> RunRails:
    return RunRails(True, None, (), value, None if value is not None else "why", 20.0, N)


def test_summary_uses_the_gauge_summary_ci():
    values = [40.0, 42.0, 44.5]
    summary = summarize_rails([_run(v) for v in values])
    low, high, method = mean_ci95(values)
    assert summary.value_mj == pytest.approx(sum(values) / 3)
    assert (summary.ci_low_mj, summary.ci_high_mj, summary.ci_method) == (low, high, method) == \
        (low, high, "student_t")
    five = summarize_rails([_run(v) for v in (40.0, 41.0, 42.0, 43.0, 44.0)])
    assert five.ci_method == "student_t" and five.ci_low_mj < 42.0 < five.ci_high_mj


def test_summary_without_values_is_none_with_a_reason():
    summary = summarize_rails([_run(None), _run(None)])
    assert summary.value_mj is None and summary.ci_low_mj is None and summary.note == "why"
    one = summarize_rails([_run(40.0), _run(None)])
    assert one.value_mj == 40.0 and one.ci_low_mj is None and "no confidence interval" in one.note


def test_the_workloads_tail_on_the_rails_is_not_idle_baseline():
    # After the workload the CPU rail holds 400 mW for 1.5 s (out of deep idle, clusters still up):
    # the run's energy, not the baseline's; the baseline starts settle_s into the idle window.
    tail = [(0.0, 100.0), (1010.3, 900.0), (1032.5, 400.0), (1034.0, 100.0)]
    meters = {"iio:device0": [("S4M_VDD_CPUCL0", tail)]}
    run = estimate_rails(reads(meters=meters), WINDOWS, N, subsystems=SUBSYSTEMS)
    cpu = by_name(run)["S4M_VDD_CPUCL0"]
    assert cpu.idle_post_power_mw == pytest.approx(100.0, rel=1e-5)
    assert run.soc_energy_per_inference_mj == pytest.approx(800.0 * 20 / N, rel=1e-5)


def test_a_soc_sum_not_above_idle_is_not_measured():
    below = [(0.0, 100.0), (1010.3, 99.0), (1032.5, 100.0)]  # the "workload" draws less than idle
    run = estimate_rails(reads(meters={"iio:device0": [("S4M_VDD_CPUCL0", below)]}), WINDOWS, N,
                         subsystems=SUBSYSTEMS)
    assert by_name(run)["S4M_VDD_CPUCL0"].energy_per_inference_mj < 0  # the rail's own difference, kept
    assert run.soc_energy_per_inference_mj is None and "not resolved above idle" in run.soc_reason

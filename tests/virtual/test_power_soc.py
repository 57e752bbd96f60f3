"""The SoC power model: power_profile.xml-shaped power by frequency, DVFS, tail, radio wake-ups."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.virtual.power_soc import MarginalSocPower, SocPeriod, SocPowerModel
from edgebench.virtual.profiles import Profile, load_profile, profiles_dir

PERIOD_S = 0.1758


def steps(profile: Profile) -> list[list[int]]:
    return [list(c.cpufreq["scaling_available_frequencies_khz"]) for c in profile.clusters]


def soc(profile: Profile) -> SocPowerModel:
    return SocPowerModel(profile.battery.soc_power, steps(profile), seed="t")


def run(m: SocPowerModel, profile: Profile, seconds: float, busy: list[float], *,
        sampler: float = 0.0, radio: bool = False, wakeups_per_s: float = 0.0) -> list[SocPeriod]:
    """`busy`: busy core-seconds per second per cluster; `sampler`: of which not the workload's."""
    tops = [c.cpufreq["scaling_max_freq_khz"] for c in profile.clusters]
    used = [b * PERIOD_S for b in busy]
    workload = [max(u - sampler * PERIOD_S, 0.0) for u in used]
    return [m.step(PERIOD_S, used, workload, tops, radio_on=radio, wakeups=wakeups_per_s * PERIOD_S)
            for _ in range(int(round(seconds / PERIOD_S)))]


def test_a_busy_cluster_ramps_up_over_several_periods_and_steps_down_after_a_hold() -> None:
    pixel = load_profile("pixel-8-like")
    m = soc(pixel)
    steps = sorted(pixel.clusters[2].cpufreq["scaling_available_frequencies_khz"])
    idle = run(m, pixel, 1.0, [0.0, 0.0, 0.0])
    assert idle[-1].freq_khz[2] == steps[0]
    loaded = [p.freq_khz[2] for p in run(m, pixel, 1.5, [0.0, 0.0, 1.0])]
    assert loaded[0] == steps[0] < loaded[1] < loaded[-1] == steps[-1]  # a ramp, not a jump
    after = [p.freq_khz[2] for p in run(m, pixel, 4.0, [0.0, 0.0, 0.0])]
    assert after[0] == steps[-1]  # held for down_hold_ms: the burst leaves the frequency up...
    assert after == sorted(after, reverse=True) and after[-1] == steps[0]  # ...then it walks down
    # A throttled ceiling caps the governor.
    capped = run(m, pixel, 1.5, [0.0, 0.0, 1.0])
    tops = [c.cpufreq["scaling_max_freq_khz"] for c in pixel.clusters]
    tops[2] = steps[5]
    assert m.step(PERIOD_S, [0.0, 0.0, PERIOD_S], [0.0, 0.0, PERIOD_S], tops, radio_on=False).freq_khz[2] == steps[5]
    assert capped[-1].freq_khz[2] == steps[-1]


def test_power_follows_the_power_profile_table_by_frequency() -> None:
    pixel = load_profile("pixel-8-like")
    spec = pixel.battery.soc_power
    m = soc(pixel)
    # At a step the source table lists, a busy core costs exactly its cpu.core_power value.
    assert m.core_mw[0][0] == pytest.approx(spec.mw(spec.clusters[0].core_power_ma[0]))
    assert m.core_mw[0][0] < m.core_mw[0][-1] < m.core_mw[2][-1]  # higher step and bigger core: more power
    # The same CPU time costs more once the governor has raised the frequency.
    first, *_, last = run(m, pixel, 1.5, [0.0, 0.0, 1.0])
    assert last.attributed_mw > 3 * first.attributed_mw
    # The sampler's time is priced for the gauge but kept out of the workload's share.
    shared = run(soc(pixel), pixel, 1.0, [0.0, 0.0, 1.0], sampler=0.25)[-1]
    added = shared.cluster_mw[2] + spec.mw(spec.cpu_active_ma)
    assert shared.attributed_mw == pytest.approx(0.75 * added, rel=1e-6)
    idle = run(soc(pixel), pixel, 1.0, [0.0, 0.0, 0.0])[-1]
    assert shared.cpu_mw - idle.cpu_mw == pytest.approx(added, rel=1e-6)  # the device's extra draw


def test_a_burst_leaves_a_tail_of_power_above_idle() -> None:
    pixel = load_profile("pixel-8-like")
    m = soc(pixel)
    idle_mw = run(m, pixel, 2.0, [0.0, 0.0, 0.0])[-1].cpu_mw
    run(m, pixel, 1.0, [1.0, 1.0, 1.0])
    tail = run(m, pixel, 3.0, [0.0, 0.0, 0.0])
    tail_ms = pixel.battery.soc_power.tail_ms
    within = [p.cpu_mw for p in tail[:int(tail_ms / 1000 / PERIOD_S)]]
    assert min(within) > idle_mw + 10  # mW: out of deep idle, clusters still up
    # Attributed (the diagnostic reading): the tail belongs to whoever kept the SoC busy, here the workload.
    assert all(p.attributed_mw == pytest.approx(p.cpu_mw - idle_mw) for p in tail)
    assert tail[-1].cpu_mw == pytest.approx(idle_mw)
    run(m, pixel, 1.0, [1.0, 0.0, 0.0], sampler=1.0)  # a burst of the sampler's alone
    assert all(p.attributed_mw == 0 for p in run(m, pixel, 3.0, [0.0, 0.0, 0.0]))


def test_the_radio_wakes_up_on_its_own_unless_in_airplane_mode() -> None:
    pixel = load_profile("pixel-8-like")
    on = run(soc(pixel), pixel, 120.0, [0.0, 0.0, 0.0], radio=True)
    assert sum(p.radio_mw > 0 for p in on) >= 3
    assert max(p.radio_mw for p in on) == pytest.approx(pixel.battery.soc_power.mw(
        pixel.battery.soc_power.radio_active_ma))
    assert all(p.radio_mw == 0 for p in run(soc(pixel), pixel, 120.0, [0.0, 0.0, 0.0]))


def test_a_profile_without_soc_power_is_refused_with_the_reason(tmp_path: Path) -> None:
    data = json.loads((profiles_dir() / "pixel-8-like.json").read_text())
    del data["battery_model"]["soc_power"]
    path = tmp_path / "no-soc.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="soc_power"):
        load_profile(str(path))
    data = json.loads((profiles_dir() / "pixel-8-like.json").read_text())
    data["battery_model"]["soc_power"]["clusters"][0]["core_power_ma"].pop()
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="as long as core_power_ma"):
        load_profile(str(path))


def test_the_cpu_rails_carry_the_whole_cpu_draw_tail_and_cpu_active_included() -> None:
    # A phone's CPU rails meter everything the CPU draws; a rail-based estimate must see what the
    # gauge sees. Busy, in the tail after a burst, and idle: the rails sum to the CPU power.
    pixel = load_profile("pixel-8-like")
    m = soc(pixel)
    periods = (run(m, pixel, 1.0, [0.0, 0.0, 0.0]) + run(m, pixel, 1.0, [0.3, 0.2, 1.0])
               + run(m, pixel, 2.0, [0.0, 0.0, 0.0]))
    for p in periods:
        assert sum(p.rail_mw) == pytest.approx(p.cpu_mw, rel=1e-9)
    busy = periods[int(1.5 / PERIOD_S)]
    assert busy.rail_mw[2] > busy.cluster_mw[2]  # cpu.active follows the busy big cluster
    tail = periods[int(2.2 / PERIOD_S)]
    idle = periods[0]
    assert tail.rail_mw[0] > idle.rail_mw[0] + 10  # the tail's cpu.active lands on a rail too
    assert min(p.rail_mw[0] for p in periods) >= idle.rail_mw[0]  # idle power stays put: no rail reads below idle


def marginal_run(m: MarginalSocPower, profile: Profile, seconds: float, workload: list[float],
                 background: list[float], *, radio: bool = False, wakeups_per_s: tuple[float, float] = (0.0, 0.0)
                 ) -> list[tuple[SocPeriod, float]]:
    """Per-second busy core-seconds per cluster of the workload and of the background (the sampler);
    `wakeups_per_s`: the workload's and the background's."""
    tops = [c.cpufreq["scaling_max_freq_khz"] for c in profile.clusters]
    work = [w * PERIOD_S for w in workload]
    back = [b * PERIOD_S for b in background]
    used = [w + b for w, b in zip(work, back)]
    peak = [max(w, b) for w, b in zip(work, back)]
    woke = sum(wakeups_per_s) * PERIOD_S
    return [m.step(PERIOD_S, used, work, tops, radio, peak, back, woke, wakeups_per_s[1] * PERIOD_S)
            for _ in range(int(round(seconds / PERIOD_S)))]


def test_marginal_truth_of_a_window_without_workload_is_zero_whatever_the_background_does() -> None:
    # The sampler bursts (DVFS ramps, tails) and the radio wakes up: the device's power moves a lot,
    # but none of it is the workload's.
    pixel = load_profile("pixel-8-like")
    m = marginal_run_model = MarginalSocPower(pixel.battery.soc_power, steps(pixel), seed="t")
    periods = []
    for _ in range(6):
        periods += marginal_run(m, pixel, 0.5, [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], radio=True)
        periods += marginal_run(m, pixel, 2.0, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], radio=True)
    device_mw = [p.cpu_mw + p.radio_mw for p, _ in periods]
    assert max(device_mw) > min(device_mw) + 100  # mW: the background's bursts, tails and radio show
    assert all(marginal == 0.0 for _, marginal in periods)
    assert marginal_run_model.device.freq_khz(0, 10**9) == marginal_run_model.without_workload.freq_khz(0, 10**9)


def test_marginal_truth_is_the_device_draw_minus_the_same_device_without_the_workload() -> None:
    pixel = load_profile("pixel-8-like")
    spec = pixel.battery.soc_power
    m = MarginalSocPower(spec, steps(pixel), seed="t")
    marginal_run(m, pixel, 2.0, [0.0, 0.0, 0.0], [0.02, 0.0, 0.0])  # settled: idle but for the sampler (below BUSY_UTILISATION)
    burst = marginal_run(m, pixel, 1.0, [0.0, 0.0, 1.0], [0.02, 0.0, 0.0])
    after = marginal_run(m, pixel, 3.0, [0.0, 0.0, 0.0], [0.02, 0.0, 0.0])
    # An independent counterfactual: a fresh model that only ever saw the sampler.
    alone = soc(pixel)
    tops = [c.cpufreq["scaling_max_freq_khz"] for c in pixel.clusters]
    sampler = [0.02 * PERIOD_S, 0.0, 0.0]
    without = [alone.step(PERIOD_S, sampler, [0.0] * 3, tops, radio_on=False) for _ in range(len(burst) + len(after) + 11)]
    for (period, marginal), base in zip(burst + after, without[11:]):
        assert marginal == pytest.approx(period.cpu_mw - base.cpu_mw, rel=1e-9, abs=1e-9)
    # The burst costs the big cluster's cores at the frequency the governor raised, cluster power, cpu.active.
    assert burst[-1][1] > spec.mw(spec.cpu_active_ma) + 100
    # The tail it leaves after the run ended counts while it lasts (the window holds it), then nothing.
    tail_periods = int(spec.tail_ms / 1000 / PERIOD_S)
    assert min(marginal for _, marginal in after[:tail_periods]) > 10  # mW
    assert all(marginal == pytest.approx(0.0, abs=1e-9) for _, marginal in after[-3:])
    # Marginal is less than attributed while the sampler shares the busy time: the sampler's own
    # cpu.active share is no longer the workload's, yet the frequency the workload raised is.
    assert sum(marginal for _, marginal in burst) < sum(p.attributed_mw for p, _ in burst) + 1e-6


def test_a_load_that_wakes_often_keeps_the_soc_out_of_deep_idle_however_little_cpu_it_uses() -> None:
    # A 1 kHz timer loop (a runner at a fixed inference rate) uses ~1 % of a core, below BUSY_UTILISATION,
    # but wakes a CPU every millisecond, more often than the deepest state's residency: cpuidle never
    # enters it, so the SoC draws cpu.active the whole time. A 10 Hz sampler does not.
    pixel = load_profile("pixel-8-like")
    spec = pixel.battery.soc_power
    assert 1000.0 / 1000 * spec.deep_idle_residency_ms >= 1 > 10.0 / 1000 * spec.deep_idle_residency_ms
    idle = run(soc(pixel), pixel, 2.0, [0.0, 0.0, 0.0])[-1].cpu_mw
    sampler = run(soc(pixel), pixel, 3.0, [0.0, 0.0, 0.0], wakeups_per_s=10.0)
    timer = run(soc(pixel), pixel, 3.0, [0.01, 0.0, 0.0], wakeups_per_s=1000.0)
    assert all(p.cpu_mw == pytest.approx(idle) for p in sampler)
    assert all(p.cpu_mw >= idle + spec.mw(spec.cpu_active_ma) for p in timer)
    # Its marginal energy is that cpu.active (and its cores' little share), not the ~0 its CPU time says.
    m = MarginalSocPower(spec, steps(pixel), seed="t")
    periods = marginal_run(m, pixel, 3.0, [0.01, 0.0, 0.0], [0.0, 0.0, 0.0], wakeups_per_s=(1000.0, 10.0))
    assert all(spec.mw(spec.cpu_active_ma) <= marginal < spec.mw(spec.cpu_active_ma) + 5 for _, marginal in periods)


def test_a_lightly_busy_period_costs_no_less_than_the_idle_tail_after_it() -> None:
    # Out of deep idle is out of deep idle: a period whose CPUs ran 6 % of it draws cpu.active in full,
    # as the tail does. (Charging it only 6 % of cpu.active made a light load read below its own absence
    # in the marginal truth: -36 mW against a sampler's tail.)
    pixel = load_profile("pixel-8-like")
    m = soc(pixel)
    light = run(m, pixel, 1.0, [0.06, 0.0, 0.0])
    tail = run(m, pixel, 0.5, [0.0, 0.0, 0.0])
    assert min(p.cpu_mw for p in light) >= max(p.cpu_mw for p in tail) - 1e-9

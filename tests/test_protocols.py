import pytest

from edgebench.errors import UsageError
from edgebench.protocols import PRESETS, resolve


def test_presets_match_the_design_table():
    assert (PRESETS["smoke"].warmup_runs, PRESETS["smoke"].runs, PRESETS["smoke"].repeats) == (5, 50, 1)
    std = PRESETS["standard"]
    assert (std.warmup_runs, std.warmup_seconds, std.runs, std.min_seconds, std.repeats) == (20, 2, 200, 10, 3)
    assert std.cooldown == "auto" and std.cooldown_max_seconds == 60
    ml = PRESETS["mlperf"]
    assert (ml.runs, ml.min_seconds, ml.max_seconds, ml.repeats, ml.cooldown_min_seconds) == (1024, 60, 600, 5, 300)
    assert not PRESETS["smoke"].verdicts


def test_overrides_below_minimum_are_allowed_and_marked_shortened():
    r = resolve("standard", runs=10, min_seconds=0.5, repeats=2)
    assert r.effective.runs == 10 and r.effective.min_seconds == 0.5 and r.effective.repeats == 2
    assert r.preset.runs == 200
    assert len(r.shortened) == 3
    assert any("timed runs 10" in s for s in r.shortened)


def test_overrides_above_minimum_are_not_shortened():
    assert resolve("smoke", runs=80).shortened == ()


def test_min_seconds_above_cap_raises_the_cap():
    assert resolve("standard", min_seconds=400).effective.max_seconds == 400


@pytest.mark.parametrize("kwargs", [dict(runs=0), dict(repeats=0), dict(warmup=-1), dict(min_seconds=-1),
                                    dict(cooldown="soon"), dict(cooldown="-3")])
def test_bad_values_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        resolve("standard", **kwargs)


def test_unknown_protocol_lists_the_known_ones():
    with pytest.raises(UsageError, match="smoke, standard, mlperf"):
        resolve("fast")


@pytest.mark.parametrize("kwargs", [dict(min_seconds=float("nan")), dict(min_seconds=float("inf")),
                                    dict(run_delay_ms=float("nan")), dict(run_delay_ms=float("inf")),
                                    dict(cooldown="nan"), dict(cooldown="inf"), dict(runs=10**10),
                                    dict(warmup=10**10), dict(runs=2.5), dict(min_seconds="3")])
def test_non_finite_huge_or_mistyped_values_are_usage_errors(kwargs):
    (flag,) = kwargs
    with pytest.raises(UsageError, match="takes a (whole )?number from"):
        resolve("standard", **kwargs)


@pytest.mark.parametrize("kwargs", [dict(duration=float("nan")), dict(idle=float("inf")), dict(warmup=float("nan")),
                                    dict(rate_hz=float("nan")), dict(rate_hz=float("inf")),
                                    dict(sample_hz=float("nan")), dict(verify_discharging_s=float("inf")),
                                    dict(calibrate_s=float("nan")), dict(repeats=2.5), dict(cooldown="nan")])
def test_battery_overrides_are_finite_and_bounded(kwargs):
    from edgebench.profiling.protocol import resolve as resolve_battery

    with pytest.raises(UsageError, match="takes a (whole )?number from"):
        resolve_battery(**kwargs)


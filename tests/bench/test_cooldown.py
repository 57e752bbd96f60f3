from edgebench.bench.cooldown import cool_down
from edgebench.protocols import PRESETS


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def sleep(self, s):
        self.now += s

    def __call__(self):
        return self.now


def test_auto_waits_until_temperatures_return_to_baseline():
    clock = FakeClock()
    temps = iter([{"cpu": 60.0}, {"cpu": 50.0}, {"cpu": 41.0}])
    waited = cool_down(PRESETS["standard"], lambda: next(temps), {"cpu": 40.0}, sleep=clock.sleep, clock=clock)
    assert waited == 4.0  # two polls of 2 s while hot, then within 2 °C


def test_auto_is_bounded():
    clock = FakeClock()
    waited = cool_down(PRESETS["standard"], lambda: {"cpu": 90.0}, {"cpu": 40.0}, sleep=clock.sleep, clock=clock)
    assert waited == PRESETS["standard"].cooldown_max_seconds


def test_mlperf_waits_its_minimum_even_without_sensors():
    clock = FakeClock()
    assert cool_down(PRESETS["mlperf"], dict, {}, sleep=clock.sleep, clock=clock) == 300.0


def test_smoke_does_not_wait():
    assert cool_down(PRESETS["smoke"], dict, {}) == 0.0


def test_auto_also_waits_for_thermal_status_zero():
    clock = FakeClock()
    statuses = iter([2, 1, 0])
    waited = cool_down(PRESETS["standard"], lambda: {"cpu": 40.0}, {"cpu": 40.0}, sleep=clock.sleep, clock=clock,
                       read_thermal_status=lambda: next(statuses))
    assert waited == 4.0

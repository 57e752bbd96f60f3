"""A battery run's windows: the driver's 10 ms phase marks against the runner's ns timestamps."""
from types import SimpleNamespace

from edgebench.profiling.windows import windows_of as _windows


def _output(*inferences):
    return SimpleNamespace(timed=[SimpleNamespace(start_ns=int(s * 1e9), latency_us=lat) for s, lat in inferences])


def test_a_phase_mark_rounded_into_the_last_inference_yields_to_its_timestamp():
    # /proc/uptime said the workload ended at 14832.66 s; the last inference ended 3.5 ms later.
    phases = {"idle_pre_start": 14800.0, "workload_start": 14810.0, "workload_end": 14832.66,
              "idle_post_end": 14842.7}
    w = _windows(phases, _output((14812.0, 500.0), (14832.663, 465.0)))
    assert w.measured == (14812.0, 14832.663465)
    assert w.idle_post == (14832.663465, 14842.7)
    assert w.warmup == (14810.0, 14812.0) and w.idle_pre == (14800.0, 14810.0)


def test_marks_already_in_order_are_kept():
    phases = {"idle_pre_start": 1.0, "workload_start": 2.0, "workload_end": 9.5, "idle_post_end": 12.0}
    w = _windows(phases, _output((3.0, 1000.0), (8.0, 1000.0)))
    assert w.idle_post == (9.5, 12.0) and w.measured == (3.0, 8.001)

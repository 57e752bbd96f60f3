"""CPU time of a device's processes from its /proc: reaped children, the sampler, CPU masks, clusters.

The /proc/PID/stat lines are written in the kernel's format (utime, stime, cutime, cstime in clock
ticks; starttime field 22); the accountant turns their growth into busy core-seconds per cluster.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.virtual.cpu_account import CLK_TCK, CpuAccountant

CLUSTERS = [0, 0, 1, 1]  # 4 device CPUs: 0-1 little (cluster 0), 2-3 big (cluster 1)


def proc(root: Path, pid: int, comm: str, ppid: int, own: int, child: int = 0, start: int = 1000,
         env: bytes = b"", schedstat: str | None = None, woken: int | None = None,
         preempted: int = 0) -> None:
    d = root / str(pid)
    d.mkdir(parents=True, exist_ok=True)
    utime, stime = own // 2, own - own // 2
    cutime, cstime = child // 2, child - child // 2
    fields = ["S", str(ppid)] + ["0"] * 9 + [str(utime), str(stime), str(cutime), str(cstime)] + ["0"] * 4 + [str(start)]
    (d / "stat").write_text(f"{pid} ({comm}) {' '.join(fields)} 0 0\n")
    (d / "environ").write_bytes(env)
    if schedstat is not None:
        (d / "schedstat").write_text(schedstat)
    if woken is not None:  # /proc/PID/status, the lines around the counts as the kernel writes them
        (d / "status").write_text(f"Name:\t{comm}\nState:\tS (sleeping)\nTgid:\t{pid}\nCpus_allowed_list:\t0-3\n"
                                  f"voluntary_ctxt_switches:\t{woken}\nnonvoluntary_ctxt_switches:\t{preempted}\n")


def gone(root: Path, pid: int) -> None:
    for f in (root / str(pid)).iterdir():
        f.unlink()
    (root / str(pid)).rmdir()


def test_time_of_a_reaped_child_is_counted_once(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS)
    proc(tmp_path, 1, "init", 0, own=0)
    proc(tmp_path, 10, "sh", 1, own=10)
    proc(tmp_path, 11, "worker", 10, own=100, start=2000)
    acc.sample(str(tmp_path))  # baseline: everything seen so far
    proc(tmp_path, 11, "worker", 10, own=150, start=2000)
    assert acc.sample(str(tmp_path)).cpu_s == pytest.approx(50 / CLK_TCK)
    # The worker ran 30 more ticks, exited and was reaped: its 180 ticks land in the shell's cutime.
    gone(tmp_path, 11)
    proc(tmp_path, 10, "sh", 1, own=10, child=180)
    tick = acc.sample(str(tmp_path))
    assert tick.cpu_s == pytest.approx(30 / CLK_TCK)
    assert sum(tick.cluster_cpu_s) == pytest.approx(30 / CLK_TCK)  # the clusters hold the same seconds


def test_the_sampler_counts_for_the_gauge_but_not_for_the_workload_on_every_cluster(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS)
    proc(tmp_path, 5, "edgebench_sampl", 0, own=0, env=b"EDGEBENCH_DEVICE_CPU_MASK=1\0")  # little CPU 0
    proc(tmp_path, 6, "edgebench_runne", 0, own=0, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=0xc\0")  # big
    acc.sample(str(tmp_path))
    proc(tmp_path, 5, "edgebench_sampl", 0, own=10, env=b"EDGEBENCH_DEVICE_CPU_MASK=1\0")
    proc(tmp_path, 6, "edgebench_runne", 0, own=100, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=0xc\0")
    tick = acc.sample(str(tmp_path))
    assert tick.cpu_s == pytest.approx(110 / CLK_TCK)
    assert tick.workload_cpu_s == pytest.approx(100 / CLK_TCK)
    assert tick.cluster_cpu_s == pytest.approx([10 / CLK_TCK, 100 / CLK_TCK])
    assert tick.workload_cluster_cpu_s == pytest.approx([0.0, 100 / CLK_TCK])


def test_a_device_cpu_mask_puts_the_seconds_on_its_cluster(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS)
    proc(tmp_path, 7, "big", 0, own=0, env=b"A=1\0EDGEBENCH_DEVICE_CPU_MASK=c\0")
    proc(tmp_path, 8, "little", 0, own=0, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=1\0")
    proc(tmp_path, 9, "straddles", 0, own=0, start=1002, env=b"EDGEBENCH_DEVICE_CPU_MASK=6\0")  # CPUs 1 and 2
    acc.sample(str(tmp_path))
    proc(tmp_path, 7, "big", 0, own=CLK_TCK, env=b"EDGEBENCH_DEVICE_CPU_MASK=c\0")
    proc(tmp_path, 8, "little", 0, own=3 * CLK_TCK, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=1\0")
    proc(tmp_path, 9, "straddles", 0, own=2 * CLK_TCK, start=1002, env=b"EDGEBENCH_DEVICE_CPU_MASK=6\0")
    tick = acc.sample(str(tmp_path))
    # big 1 s on cluster 1, little 3 s on cluster 0, the straddler's 2 s half on each
    assert tick.cluster_cpu_s == pytest.approx([4.0, 2.0])
    assert tick.cpu_s == pytest.approx(6.0)


def test_unpinned_processes_spread_over_all_cpus_and_a_bad_mask_counts_as_none(tmp_path: Path) -> None:
    acc = CpuAccountant([0, 1, 1, 1])  # 1 little CPU, 3 big ones
    proc(tmp_path, 9, "any", 0, own=0)
    proc(tmp_path, 10, "garbled", 0, own=0, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=zz\0")
    acc.sample(str(tmp_path))
    proc(tmp_path, 9, "any", 0, own=4 * CLK_TCK)
    proc(tmp_path, 10, "garbled", 0, own=4 * CLK_TCK, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=zz\0")
    assert acc.sample(str(tmp_path)).cluster_cpu_s == pytest.approx([2.0, 6.0])  # 1/4 and 3/4 of 8 s


def test_the_governor_load_is_the_busiest_process_demand_per_cluster(tmp_path: Path) -> None:
    """schedstat's run + wait time of the busiest process that may run on a cluster, not the cluster's sum."""
    acc = CpuAccountant(CLUSTERS)
    proc(tmp_path, 20, "a", 0, own=0, env=b"EDGEBENCH_DEVICE_CPU_MASK=c\0", schedstat="0 0 0\n")
    proc(tmp_path, 21, "b", 0, own=0, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=c\0", schedstat="0 0 0\n")
    acc.sample(str(tmp_path))
    proc(tmp_path, 20, "a", 0, own=CLK_TCK // 10, env=b"EDGEBENCH_DEVICE_CPU_MASK=c\0",
         schedstat="100000000 300000000 5\n")  # 0.1 s on a CPU, 0.3 s waiting for one
    proc(tmp_path, 21, "b", 0, own=CLK_TCK // 10, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=c\0",
         schedstat="100000000 0 5\n")
    tick = acc.sample(str(tmp_path))
    assert tick.cluster_peak_cpu_s == pytest.approx([0.0, 0.4])
    assert tick.cluster_cpu_s == pytest.approx([0.0, 0.2])


def test_wake_ups_are_voluntary_switches_not_preemptions_and_the_sampler_s_are_the_background(tmp_path: Path) -> None:
    """A busy host preempts the device's processes (schedstat's run count and nonvoluntary switches grow);
    only sleeps and wake-ups (voluntary switches) tell how often a CPU would leave deep idle."""
    acc = CpuAccountant(CLUSTERS)
    proc(tmp_path, 30, "edgebench_runne", 0, own=0, schedstat="0 0 100\n", woken=90)
    proc(tmp_path, 31, "edgebench_sampl", 0, own=0, start=1001, schedstat="0 0 7\n", woken=7)
    acc.sample(str(tmp_path))
    proc(tmp_path, 30, "edgebench_runne", 0, own=1, schedstat="1000000 0 5276\n", woken=266,
         preempted=5000)  # woke 176 times; preempted 5000 times by the host
    proc(tmp_path, 31, "edgebench_sampl", 0, own=0, start=1001, schedstat="0 0 9\n", woken=9)  # twice
    proc(tmp_path, 32, "cat", 0, own=0, start=3000, schedstat="0 0 3\n", woken=3)  # new: all its wake-ups count
    tick = acc.sample(str(tmp_path))
    assert (tick.wakeups, tick.background_wakeups) == (181, 2)

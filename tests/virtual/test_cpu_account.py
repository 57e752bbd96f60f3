"""CPU time of a device's processes from its /proc: reaped children, the sampler, CPU masks."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.virtual.cpu_account import CLK_TCK, CpuAccountant

CLUSTERS = [0, 0, 1, 1]  # 4 device CPUs, 2 clusters
MW = (100.0, 1000.0)


def proc(root: Path, pid: int, comm: str, ppid: int, own: int, child: int = 0, start: int = 1000,
         env: bytes = b"") -> None:
    d = root / str(pid)
    d.mkdir(parents=True, exist_ok=True)
    utime, stime = own // 2, own - own // 2
    cutime, cstime = child // 2, child - child // 2
    fields = ["S", str(ppid)] + ["0"] * 9 + [str(utime), str(stime), str(cutime), str(cstime)] + ["0"] * 4 + [str(start)]
    (d / "stat").write_text(f"{pid} ({comm}) {' '.join(fields)} 0 0\n")
    (d / "environ").write_bytes(env)


def gone(root: Path, pid: int) -> None:
    for f in (root / str(pid)).iterdir():
        f.unlink()
    (root / str(pid)).rmdir()


def test_time_of_a_reaped_child_is_counted_once(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS, MW)
    proc(tmp_path, 1, "init", 0, own=0)
    proc(tmp_path, 10, "sh", 1, own=10)
    proc(tmp_path, 11, "worker", 10, own=100, start=2000)
    acc.sample(str(tmp_path))  # baseline: everything seen so far
    proc(tmp_path, 11, "worker", 10, own=150, start=2000)
    assert acc.sample(str(tmp_path)).cpu_s == pytest.approx(50 / CLK_TCK)
    # The worker ran 30 more ticks, exited and was reaped: its 180 ticks land in the shell's cutime.
    gone(tmp_path, 11)
    proc(tmp_path, 10, "sh", 1, own=10, child=180)
    assert acc.sample(str(tmp_path)).cpu_s == pytest.approx(30 / CLK_TCK)


def test_the_sampler_counts_for_the_gauge_but_not_for_the_workload(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS, MW)
    proc(tmp_path, 5, "edgebench_sampl", 0, own=0)
    proc(tmp_path, 6, "edgebench_runne", 0, own=0, start=1001)
    acc.sample(str(tmp_path))
    proc(tmp_path, 5, "edgebench_sampl", 0, own=10)
    proc(tmp_path, 6, "edgebench_runne", 0, own=100, start=1001)
    tick = acc.sample(str(tmp_path))
    assert tick.cpu_s == pytest.approx(110 / CLK_TCK)
    assert tick.workload_cpu_s == pytest.approx(100 / CLK_TCK)


def test_a_device_cpu_mask_picks_the_cluster_power(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS, MW)
    proc(tmp_path, 7, "big", 0, own=0, env=b"A=1\0EDGEBENCH_DEVICE_CPU_MASK=c\0")
    proc(tmp_path, 8, "little", 0, own=0, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=1\0")
    acc.sample(str(tmp_path))
    proc(tmp_path, 7, "big", 0, own=CLK_TCK, env=b"EDGEBENCH_DEVICE_CPU_MASK=c\0")
    proc(tmp_path, 8, "little", 0, own=CLK_TCK, start=1001, env=b"EDGEBENCH_DEVICE_CPU_MASK=1\0")
    tick = acc.sample(str(tmp_path))
    assert tick.cluster_energy_mj == pytest.approx([100.0, 1000.0])  # 1 s each: little 100 mJ, big 1 J
    assert tick.energy_mj == pytest.approx(1100.0)


def test_unpinned_processes_cost_the_mean_core_power(tmp_path: Path) -> None:
    acc = CpuAccountant(CLUSTERS, MW)
    proc(tmp_path, 9, "any", 0, own=0)
    acc.sample(str(tmp_path))
    proc(tmp_path, 9, "any", 0, own=2 * CLK_TCK)
    assert acc.sample(str(tmp_path)).energy_mj == pytest.approx(2 * 550.0)

"""CPU time of a virtual device's processes, per cluster, read from the device's own /proc.

Each gauge period the host reads `/proc/<device init>/root/proc/<pid>/stat` for every process of
the device's PID namespace: utime + stime (own) and cutime + cstime (reaped children). The CPU
time spent since the last period is the growth of own + children time of the processes seen both
times, plus the whole time of new processes, minus what reaped children had already been counted
for (a child's time moves into its parent's cutime when the parent waits for it). Processes whose
parent is outside the device (commands started by adbd's stand-in through nsenter) lose at most
their last period's time when they exit.

Clusters: a process's CPU seconds are spread evenly over the device CPUs it may run on, and so
split by cluster (what the SoC power model, power_soc.py, prices at each cluster's frequency). Which
device CPUs: `EDGEBENCH_DEVICE_CPU_MASK` in its environment (set by the device's `taskset`, see
device_scripts/taskset; children inherit it), else all CPUs. This module counts time, never energy.

`SAMPLER_COMMS`: the harness sampler's time is counted for the gauge (a phone's gauge sees it)
but kept out of the workload's energy (the battery protocol measures it in the idle baselines too).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")
# /proc/PID/comm keeps 15 characters: edgebench_sampler -> edgebench_sampl
SAMPLER_COMMS = ("edgebench_sampl",)
MASK_ENV = b"EDGEBENCH_DEVICE_CPU_MASK="


@dataclass(frozen=True)
class _Proc:
    start: int
    demand_ns: int  # /proc/PID/schedstat: time on a CPU + time waiting on a runqueue (main thread)
    wakeups: int  # /proc/PID/status voluntary_ctxt_switches: times it slept and was woken (main thread)
    own: int  # clock ticks
    child: int
    ppid: int
    sampler: bool
    weights: tuple[float, ...]  # per cluster: the share of this process's CPU seconds spent there


@dataclass
class CpuTick:
    """CPU time of one period, in total and per cluster (busy core-seconds)."""

    cpu_s: float = 0.0
    workload_cpu_s: float = 0.0  # everything but the sampler
    cluster_cpu_s: list[float] = field(default_factory=list)
    workload_cluster_cpu_s: list[float] = field(default_factory=list)
    # Per cluster: the most CPU demand (running + waiting for a host CPU, from schedstat) of one
    # process that may run there. A thread runs on one CPU at a time, so this is the load the
    # cluster's busiest CPU would see on a phone, whatever else the host runs: what a governor
    # follows. The spread above is what the clusters' power is priced on.
    cluster_peak_cpu_s: list[float] = field(default_factory=list)
    # The same, over the sampler's processes only: the load the device would have had without the
    # workload (what the counterfactual SoC model of the marginal truth follows, power_soc.py).
    background_peak_cpu_s: list[float] = field(default_factory=list)
    # Times the device's processes were woken from a sleep (voluntary context switches), all of them
    # and the sampler's: a process that wakes often keeps the SoC out of deep idle however little CPU
    # it uses. Not schedstat's run count: that also counts each timeslice a busy host preempts, so the
    # device's idle power would follow the host's load (CI ran the analysis fixtures unresolvable).
    wakeups: float = 0.0
    background_wakeups: float = 0.0


def _parse_stat(text: str) -> tuple[str, int, int, int, int] | None:
    """(comm, ppid, own ticks, child ticks, starttime) from /proc/PID/stat."""
    open_paren, close_paren = text.find("("), text.rfind(")")
    if open_paren < 0 or close_paren < 0:
        return None
    fields = text[close_paren + 2:].split()
    try:
        return (text[open_paren + 1:close_paren], int(fields[1]), int(fields[11]) + int(fields[12]),
                int(fields[13]) + int(fields[14]), int(fields[19]))
    except (IndexError, ValueError):
        return None


def _read_schedstat(path: str) -> int:
    """ns on a CPU + ns waiting to run, from schedstat; 0 when unreadable."""
    try:
        with open(path) as f:
            fields = f.read().split()
        return int(fields[0]) + int(fields[1])
    except (OSError, IndexError, ValueError):
        return 0


def _read_wakeups(path: str) -> int:
    """voluntary_ctxt_switches from /proc/PID/status (each one a sleep and a wake-up); 0 when unreadable."""
    try:
        with open(path, "rb") as f:
            text = f.read()
        at = text.index(b"\nvoluntary_ctxt_switches:") + 26
        return int(text[at:text.index(b"\n", at)])
    except (OSError, ValueError):
        return 0


class CpuAccountant:
    def __init__(self, cluster_of_cpu: list[int]) -> None:
        self.cluster_of_cpu = cluster_of_cpu  # device CPU number -> cluster index
        self.n_clusters = max(cluster_of_cpu) + 1
        self.procs: dict[int, _Proc] = {}
        self.all_weights = self._weights(range(len(cluster_of_cpu)))

    def reset(self) -> None:
        """The device rebooted: every process is new."""
        self.procs = {}

    def _weights(self, cpus: object) -> tuple[float, ...]:
        chosen = [c for c in cpus if 0 <= c < len(self.cluster_of_cpu)]  # type: ignore[attr-defined]
        if not chosen:
            return self.all_weights
        per_cluster = [0.0] * self.n_clusters
        for cpu in chosen:
            per_cluster[self.cluster_of_cpu[cpu]] += 1.0 / len(chosen)
        return tuple(per_cluster)

    def _weights_of(self, proc_dir: str, pid: int) -> tuple[float, ...]:
        try:
            with open(f"{proc_dir}/{pid}/environ", "rb") as f:
                environ = f.read(1 << 16)
        except OSError:
            return self.all_weights
        for item in environ.split(b"\0"):
            if item.startswith(MASK_ENV):
                try:
                    mask = int(item[len(MASK_ENV):].decode().removeprefix("0x"), 16)
                except ValueError:
                    return self.all_weights
                return self._weights(c for c in range(len(self.cluster_of_cpu)) if mask >> c & 1)
        return self.all_weights

    def _empty(self) -> CpuTick:
        return CpuTick(cluster_cpu_s=[0.0] * self.n_clusters, workload_cluster_cpu_s=[0.0] * self.n_clusters,
                       cluster_peak_cpu_s=[0.0] * self.n_clusters, background_peak_cpu_s=[0.0] * self.n_clusters)

    def sample(self, proc_dir: str) -> CpuTick:
        """Read every process of the device; return the CPU time since the last call."""
        current: dict[int, _Proc] = {}
        try:
            names = os.listdir(proc_dir)
        except OSError:
            return self._empty()
        for name in names:
            if not name.isdigit():
                continue
            pid = int(name)
            try:
                with open(f"{proc_dir}/{pid}/stat") as f:
                    parsed = _parse_stat(f.read())
            except OSError:
                continue
            if parsed is None:
                continue
            comm, ppid, own, child, start = parsed
            demand_ns = _read_schedstat(f"{proc_dir}/{pid}/schedstat")
            wakeups = _read_wakeups(f"{proc_dir}/{pid}/status")
            old = self.procs.get(pid)
            if old is not None and old.start == start:
                weights, sampler = old.weights, old.sampler
            else:
                weights, sampler = self._weights_of(proc_dir, pid), comm.startswith(SAMPLER_COMMS)
            current[pid] = _Proc(start, demand_ns, wakeups, own, child, ppid, sampler, weights)
        tick = self._empty()
        # Children that vanished since the last read: their parent's cutime now holds their time.
        counted_by_parent: dict[int, int] = {}
        for pid, old in self.procs.items():
            now = current.get(pid)
            if now is not None and now.start == old.start:
                continue
            parent = current.get(old.ppid)
            if parent is not None and self.procs.get(old.ppid, parent).start == parent.start:
                counted_by_parent[old.ppid] = counted_by_parent.get(old.ppid, 0) + old.own + old.child
        for pid, now in current.items():
            old = self.procs.get(pid)
            if old is not None and old.start == now.start:
                ticks = (now.own - old.own) + (now.child - old.child) - counted_by_parent.get(pid, 0)
                demand_s = (now.demand_ns - old.demand_ns) / 1e9
                woken = max(now.wakeups - old.wakeups, 0)
            else:
                ticks = now.own + now.child
                demand_s = now.demand_ns / 1e9
                woken = now.wakeups
            tick.wakeups += woken
            if now.sampler:
                tick.background_wakeups += woken
            if ticks > 0:
                self._add(tick, ticks / CLK_TCK, now)
            self._peak(tick, max(demand_s, ticks / CLK_TCK), now)
        self.procs = current
        return tick

    @staticmethod
    def _add(tick: CpuTick, seconds: float, proc: _Proc) -> None:
        tick.cpu_s += seconds
        for cluster, share in enumerate(proc.weights):
            tick.cluster_cpu_s[cluster] += seconds * share
            if not proc.sampler:
                tick.workload_cluster_cpu_s[cluster] += seconds * share
        if not proc.sampler:
            tick.workload_cpu_s += seconds

    @staticmethod
    def _peak(tick: CpuTick, demand_s: float, proc: _Proc) -> None:
        for cluster, share in enumerate(proc.weights):
            if share > 0:
                tick.cluster_peak_cpu_s[cluster] = max(tick.cluster_peak_cpu_s[cluster], demand_s)
                if proc.sampler:
                    tick.background_peak_cpu_s[cluster] = max(tick.background_peak_cpu_s[cluster], demand_s)

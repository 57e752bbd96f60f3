"""Processes of a running virtual device, seen from the host (for the kill-harness fault)."""
from __future__ import annotations

import os
import signal


def _device_processes(init_pid: int) -> list[tuple[int, str, str]]:
    """(device pid, comm, basename of argv[0]) of every process in the device's PID namespace."""
    proc = f"/proc/{init_pid}/root/proc"  # the device's own procfs: device pids
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/stat") as f:
                comm = f.read().split("(", 1)[1].rsplit(")", 1)[0]
            with open(f"{proc}/{entry}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0", 1)[0].decode(errors="replace").rsplit("/", 1)[-1]
        except (OSError, IndexError):
            continue  # exited meanwhile
        found.append((int(entry), comm, argv0))
    return found


def host_pid(init_pid: int, device_pid: int) -> int | None:
    """The host pid of a device process (its NSpid line lists the host pid first, the device's last)."""
    target = os.readlink(f"/proc/{init_pid}/ns/pid")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != target:
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        if int(line.split()[-1]) == device_pid:
                            return int(entry)
                        break
        except (OSError, ValueError):
            continue
    return None


def kill_by_name(init_pid: int, names: tuple[str, ...]) -> list[int]:
    """SIGKILL every device process named one of `names`; returns their device pids.

    A name matches argv[0]'s basename or the kernel's comm, which keeps only 15 characters
    (edgebench_runner shows as edgebench_runne; a script started by its #! line has the script's
    name as comm)."""
    killed = []
    for device_pid, comm, argv0 in _device_processes(init_pid):
        if argv0 in names or any(name[:15] == comm for name in names):
            pid = host_pid(init_pid, device_pid)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(device_pid)
            except ProcessLookupError:
                pass
    return killed

"""A full /data for a running virtual device, without filling the host's disk.

Inside the device's mount namespace only, /data/local and /storage/emulated get an overlay whose
upper layer is a one-page tmpfs that is already full: existing files stay readable, but creating
data (a push, `echo > file`, appending) fails with ENOSPC "No space left on device", as on a phone
whose /data is full, and `df` reports the overlay 100 % used. /data/vendor (setprop, markers)
keeps working, as a phone's property service does. Clearing the fault unmounts the overlays;
files deleted while it was on come back (their deletion only existed in the full layer), and
programs that opened a file before the fault keep writing to it.

Mounted from the host with util-linux nsenter/mount (host root enters the device's mount
namespace; rootless hosts also enter its user namespace).
"""
from __future__ import annotations

import asyncio
import os
import shlex
from pathlib import Path

from edgebench.virtual.sandbox import SandboxError

TARGETS = ("data/local", "storage/emulated")


async def _in_device_mounts(init_pid: int, script: str) -> None:
    enter = ["/usr/bin/nsenter", f"--target={init_pid}", "--mount"]
    if os.geteuid() != 0:
        enter.insert(2, "--user")
    proc = await asyncio.create_subprocess_exec(*enter, "--", "/bin/sh", "-c", script,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SandboxError(f"no-space fault: mounting in the device failed ({out.decode(errors='replace').strip()})")


async def enable(init_pid: int, root: Path, scratch: Path) -> None:
    scratch.mkdir(exist_ok=True)
    q = shlex.quote
    lines = [f"mount -t tmpfs -o size=4k,mode=0755 edgebench-full {q(str(scratch))}"]
    options = "" if os.geteuid() == 0 else ",userxattr"
    for index, rel in enumerate(TARGETS):
        upper, work = scratch / f"upper{index}", scratch / f"work{index}"
        lines.append(f"mkdir {q(str(upper))} {q(str(work))}")
        lines.append(f"mount -t overlay edgebench-full -o lowerdir={q(str(root / rel))},upperdir={q(str(upper))},"
                     f"workdir={q(str(work))}{options} {q(str(root / rel))}")
    # Use up the single page: from now on every data block asked of the upper layer is refused.
    lines.append(f"head -c 4096 /dev/zero > {q(str(scratch / 'fill'))} 2>/dev/null || true")
    await _in_device_mounts(init_pid, " && ".join(lines))


async def disable(init_pid: int, root: Path, scratch: Path) -> None:
    q = shlex.quote
    lines = [f"umount -l {q(str(root / rel))} 2>/dev/null" for rel in TARGETS]
    lines.append(f"umount -l {q(str(scratch))} 2>/dev/null")
    await _in_device_mounts(init_pid, "; ".join(lines) + "; true")

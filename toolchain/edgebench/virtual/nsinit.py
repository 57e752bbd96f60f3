"""PID 1 of a virtual device's namespaces: build its mount table, chroot into it, reap orphans.

Started by `sandbox.Sandbox.start` as `python -m edgebench.virtual.nsinit CONFIG_JSON`: it enters new
user/mount/pid/net/uts/ipc namespaces itself (util-linux `unshare --map-users` needs `newuidmap`,
which Debian does not install by default) and forks the device's PID 1. It is root *inside the
device's user namespace only*. Every shell command of the device later joins these namespaces with `nsenter` and drops to
uid 2000 (see sandbox.py), so this process is where the device's view of the world is decided:

- the device folder is `/`; `/system`, `/vendor`, `/sys` are read-only bind mounts of its own folders;
- the host's `/usr` (and `/lib*` when they are real folders) is bound read-only so Debian's `mksh`,
  `toybox` and their libraries run;
- `/proc` is a real procfs of the device's PID namespace (processes work), with the profile's fake
  `cpuinfo` bound over `/proc/cpuinfo`;
- `/dev` is a small tmpfs holding only null/zero/full/random/urandom/tty bound from the host;
- for arm64-v8a devices, `qemu-aarch64-static` is registered in a binfmt_misc instance that belongs
  to this user namespace only (Linux >= 6.7), so aarch64 binaries just run; the host is untouched.
  On older kernels a host-wide qemu rule is used if the host has one; otherwise the device runs in
  "exec-prefix" mode (sandbox.py exports EDGEBENCH_EXEC_PREFIX to every command).

Only the standard library: everything is imported before the chroot, after which the host's Python
files are no longer reachable.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from typing import Any

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000

# statvfs f_flag bits -> mount flags; a read-only remount in a user namespace must repeat the
# flags the kernel locked on the source mount, or it fails with EPERM.
_LOCKED_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                 (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME),
                 (os.ST_RELATIME, MS_RELATIME))

# ELF header of an aarch64 executable, as the qemu-user-static package registers it.
_AARCH64_MAGIC = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
_AARCH64_MASK = b"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]

DEVICE_NODES = ("null", "zero", "full", "random", "urandom", "tty")


class SetupError(Exception):
    """A mount or namespace step failed; the message names the step and the path."""


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    rc = _libc.mount(source.encode() if source else None, target.encode(),
                     fstype.encode() if fstype else None, flags, data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise SetupError(f"mount({source!r} -> {target!r}, type={fstype!r}, flags={flags:#x}) failed: "
                         f"{os.strerror(err)}")


def bind(source: str, target: str, *, read_only: bool) -> None:
    _mount(source, target, None, MS_BIND)
    if read_only:
        current = os.statvfs(target).f_flag
        locked = 0
        for st_flag, ms_flag in _LOCKED_FLAGS:
            if current & st_flag:
                locked |= ms_flag
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked)


def _ensure_file(path: str) -> None:
    if not os.path.lexists(path):
        with open(path, "w"):
            pass


def setup_dev(root: str, overlay: str) -> None:
    dev = os.path.join(root, "dev")
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m")
    for name in DEVICE_NODES:
        target = os.path.join(dev, name)
        _ensure_file(target)
        # Bound (not created): a user namespace cannot mknod, and bound host nodes keep working.
        bind(f"/dev/{name}", target, read_only=False)
    # The host's PTYs, read-only, so ttyname() finds the PTY of an interactive `adb shell` (opening
    # another session's PTY still needs its owner's permission, which uid 2000 never has).
    os.mkdir(os.path.join(dev, "pts"))
    bind("/dev/pts", os.path.join(dev, "pts"), read_only=True)
    for name, dest in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                       ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(dest, os.path.join(dev, name))
    # The host-side daemons' sockets (logd.py), where a phone has them; read-only still lets
    # device users connect (connecting needs write permission on the socket, not on the mount).
    sockets = os.path.join(overlay, "dev", "socket")
    if os.path.isdir(sockets):
        os.mkdir(os.path.join(dev, "socket"))
        bind(sockets, os.path.join(dev, "socket"), read_only=True)
    _mount(None, dev, None, MS_REMOUNT | MS_NOSUID | MS_NOEXEC | MS_RDONLY, "mode=755,size=1m")


def setup_proc(root: str, overlay: str) -> None:
    proc = os.path.join(root, "proc")
    _mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    overlay_proc = os.path.join(overlay, "proc")
    if os.path.isdir(overlay_proc):
        for name in sorted(os.listdir(overlay_proc)):
            bind(os.path.join(overlay_proc, name), os.path.join(proc, name), read_only=True)
    # A boot id of this boot (the host's would survive the device's reboots).
    boot_id = os.path.join(overlay, "boot_id")
    with open(boot_id, "w") as f:
        f.write(f"{uuid.uuid4()}\n")
    os.chmod(boot_id, 0o444)
    bind(boot_id, os.path.join(proc, "sys/kernel/random/boot_id"), read_only=True)


def register_qemu(root: str, interpreter: str) -> None:
    """Register qemu for aarch64 ELF files in this user namespace's own binfmt_misc instance."""
    mnt = os.path.join(root, "proc", "sys", "fs", "binfmt_misc")
    _mount("binfmt_misc", mnt, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # Written as \xHH text: the kernel unescapes magic and mask as C strings, so a raw NUL byte
    # would cut them short and the rule would then match every 64-bit ELF file.
    def hexed(data: bytes) -> bytes:
        return "".join(f"\\x{b:02x}" for b in data).encode()

    rule = b":qemu-aarch64:M::" + hexed(_AARCH64_MAGIC) + b":" + hexed(_AARCH64_MASK) + b":" + interpreter.encode() + b":FP\n"
    try:
        with open(os.path.join(mnt, "register"), "wb", buffering=0) as f:
            f.write(rule)
    except OSError as exc:
        raise SetupError(f"registering {interpreter} in binfmt_misc failed: {exc}") from exc
    # Stays mounted: unmounting a sandboxed binfmt_misc instance drops its entries. Device shells
    # (uid 2000) can read it but not register anything.


def loopback_up() -> None:
    """Bring up `lo` in the device's private network namespace (a phone has a working localhost)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, siocgifflags, req))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


WLAN_ADDRESS = "192.168.1.100/24"  # a home-router LAN address; the link leads nowhere
IP_TOOLS = ("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip")


def wlan_up() -> str | None:
    """A `wlan0` with an address in the device's own network namespace (never the host's), so
    tools that read a phone's Wi-Fi address find one. A dummy link where the kernel has the dummy
    driver, else ifb (also a link without a peer); nothing beyond the device answers on it.
    Returns None, or why there is no wlan0 (no iproute2, no such link type)."""
    ip = next((path for path in IP_TOOLS if os.access(path, os.X_OK)), None)
    if ip is None:
        return "no iproute2 `ip` on the host"
    for kind in ("dummy", "ifb"):
        made = subprocess.run([ip, "link", "add", "wlan0", "type", kind], capture_output=True)
        if made.returncode == 0:
            break
    else:
        return f"the kernel offers neither a dummy nor an ifb link ({made.stderr.decode().strip()})"
    for step in (["addr", "add", WLAN_ADDRESS, "dev", "wlan0"], ["link", "set", "wlan0", "up"]):
        done = subprocess.run([ip, *step], capture_output=True)
        if done.returncode != 0:
            return f"`ip {' '.join(step)}` failed: {done.stderr.decode().strip()}"
    return None


def build(config: dict[str, Any]) -> str:
    """Build the device's mount table and chroot into it. Returns how aarch64 programs run:
    native (x86_64 device), binfmt-namespace, binfmt-host, or exec-prefix (qemu must be named)."""
    root = config["root"]
    # Nothing mounted here may propagate back to the host's mount table.
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for source in config.get("host_binds", []):
        bind(source, os.path.join(root, source.lstrip("/")), read_only=True)
    for rel in config.get("read_only", []):
        path = os.path.join(root, rel)
        bind(path, path, read_only=True)
    setup_proc(root, config["overlay"])
    setup_dev(root, config["overlay"])
    for rel in config.get("partitions", []):
        # A mount point of its own, as a phone's userdata is. Mounted last: every device mount
        # shares the host's st_dev, and df names the last mount of a file's st_dev.
        path = os.path.join(root, rel)
        if os.path.isdir(path):
            bind(path, path, read_only=False)
    aarch64 = "native"
    if config.get("qemu_aarch64"):
        try:
            register_qemu(root, config["qemu_aarch64"])
            aarch64 = "binfmt-namespace"
        except SetupError:
            # Kernels before 6.7 have no per-namespace binfmt_misc; a host-wide qemu rule (if the
            # host registered one) still applies here. Otherwise programs must be run through qemu.
            host_rule = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
            aarch64 = "binfmt-host" if os.path.exists(host_rule) else "exec-prefix"
    socket.sethostname(config.get("hostname", "localhost"))
    loopback_up()
    no_wlan = wlan_up()
    if no_wlan is not None:
        print(f"nsinit: no wlan0: {no_wlan}", file=sys.stderr, flush=True)  # the device's server.log
    os.chroot(root)
    os.chdir("/")
    return aarch64


CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
ID_RANGE = 65536  # host uids/gids 0..65535 keep their numbers inside (shell = 2000 on both sides)


def _start_clocks_at_zero() -> int | None:
    """A time namespace whose CLOCK_BOOTTIME and CLOCK_MONOTONIC start near 0, so the device's
    uptime restarts at each boot as a phone's does (offsets are set before any process enters it,
    the only time the kernel allows). Returns the offset in whole seconds (device clock = host
    clock + offset), or None on kernels without time namespaces (Linux < 5.6 or CONFIG_TIME_NS
    off): the device then shares the host's clocks."""
    if _libc.unshare(CLONE_NEWTIME) != 0:
        return None
    offset = -int(time.clock_gettime(time.CLOCK_MONOTONIC))
    boot_offset = -int(time.clock_gettime(time.CLOCK_BOOTTIME))
    with open("/proc/self/timens_offsets", "w") as f:
        f.write(f"monotonic {offset} 0\nboottime {boot_offset} 0\n")
    return boot_offset


def _unshare_with_identity_map() -> None:
    """Enter new user/mount/pid/net/uts/ipc namespaces with uids 0..65535 mapped to themselves.

    Host root may map a range, but only from the *parent* user namespace, so a helper forked
    before the unshare writes our maps. Without host root, only our own uid can be mapped (to 0).
    """
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC
    me = os.getpid()
    if os.geteuid() != 0:
        uid, gid = os.geteuid(), os.getegid()
        if _libc.unshare(flags) != 0:
            raise SetupError(f"unshare failed: {os.strerror(ctypes.get_errno())}")
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
        return
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(ready_w)
        os.read(ready_r, 1)
        try:
            for name in ("uid_map", "gid_map"):
                with open(f"/proc/{me}/{name}", "w") as f:
                    f.write(f"0 0 {ID_RANGE}")
        except OSError:
            os._exit(1)
        os._exit(0)
    os.close(ready_r)
    rc = _libc.unshare(flags)
    err = ctypes.get_errno()
    os.write(ready_w, b"x")
    os.close(ready_w)
    _, status = os.waitpid(helper, 0)
    if rc != 0:
        raise SetupError(f"unshare failed: {os.strerror(err)}")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SetupError("writing the user namespace uid/gid maps failed")


def _reap(signum: int, frame: object) -> None:
    # Orphaned device processes (nohup jobs) are re-parented to us; reap them so none stay zombies.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _exit_now(signum: int, frame: object) -> None:
    # PID 1 leaving ends the namespace: the kernel kills every device process.
    os._exit(0)


def _init(config: dict[str, Any], report_fd: int) -> None:
    """Body of PID 1 inside the new PID namespace. Never returns."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _libc.prctl(PR_SET_NAME, b"init", 0, 0, 0)  # what `ps` shows as PID 1, as on a phone
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _exit_now)
    try:
        aarch64 = build(config)
    except (SetupError, OSError) as exc:
        os.write(report_fd, f"error: {exc}\n".encode())
        os._exit(1)
    signal.signal(signal.SIGCHLD, _reap)
    os.write(report_fd, f"ok {aarch64}\n".encode())
    os.close(report_fd)
    while True:
        signal.pause()


def main(argv: list[str]) -> int:
    """Print `ready <host pid of the device's PID 1> <aarch64 mode> <boottime offset s, or "shared">` (or
    `error: ...`), then wait."""
    config = json.loads(argv[1])
    # If the device process dies (even by SIGKILL), we get SIGTERM and take the device down with us.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if config.get("parent_pid") and os.getppid() != config["parent_pid"]:
        return 1  # the parent was already gone before the line above
    try:
        _unshare_with_identity_map()
        boottime_offset_s = _start_clocks_at_zero()
    except (SetupError, OSError) as exc:
        print(f"error: {exc}", flush=True)
        return 1
    report_r, report_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(report_r)
        _init(config, report_w)
    os.close(report_w)
    with os.fdopen(report_r) as report:
        status = report.readline().strip()
    if not status.startswith("ok "):
        print(status or "error: the device init process died during setup", flush=True)
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        return 1

    def forward(signum: int, frame: object) -> None:
        os.kill(child, signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    clocks = "shared" if boottime_offset_s is None else boottime_offset_s
    print(f"ready {child} {status.split()[1]} {clocks}", flush=True)
    _, status_code = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status_code)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

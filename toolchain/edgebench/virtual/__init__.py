"""Virtual devices: adb-speaking stand-ins for phones, so the whole adb path runs without a phone.

A virtual device is a real adb peer (device side of the adb protocol, `adb_protocol.py`) listening
on 127.0.0.1:PORT; `adb connect` adds it to any adb server (tested with adb 29 and 36). Behind it:

- `shell:`/`shell,v2,...:`/`exec:` run in a sandbox (`sandbox.py`, `nsinit.py`): private user,
  mount, PID, network, UTS and IPC namespaces, the device folder as `/`, uid 2000 with no
  capabilities and no_new_privs, Debian `mksh` as /system/bin/sh and `toybox` applets, host `/usr`
  read-only, a real procfs with the profile's /proc/cpuinfo bound over it;
- `sync:` (push/pull/ls/stat) resolves every path inside the device root with openat2
  (RESOLVE_IN_ROOT) and runs as the shell user (`device_fs.py`, `sync_service.py`);
- getprop/setprop/dumpsys (battery, thermalservice) are POSIX sh scripts inside the image
  (`device_scripts/`), reading /system/build.prop, /sys and state files under /data, so they behave
  the same from `adb shell` as from edgebench;
- the image (`image.py`) comes from a profile (`profiles.py`, fixtures/profiles/*.json, derived from
  real captures): properties, /proc/cpuinfo, cpufreq per cluster, cpu_capacity, thermal zones and
  power-supply nodes. Every device sets `ro.edgebench.virtual=1`, so its results are never taken
  for a phone's.

ABIs: x86_64 (default) runs programs at host speed. arm64-v8a reports arm64-v8a (getprop, `uname -m`)
and runs aarch64 programs through qemu-aarch64-static registered in the device's own binfmt_misc
instance (Linux >= 6.7; the host's binfmt settings are untouched). Without that, a host-wide qemu
rule is used if present, else the device says `ro.edgebench.exec_prefix` / `$EDGEBENCH_EXEC_PREFIX`
and programs must be started as `$EDGEBENCH_EXEC_PREFIX ./prog`. Dynamically linked glibc aarch64
programs run when Debian's libc6-arm64-cross is installed (commands get QEMU_LD_PREFIX=
/usr/aarch64-linux-gnu). Android (bionic) binaries need /system/bin/linker64, which a virtual
device does not have: use static, musl or glibc builds.

`registry.py` keeps devices in `<workspace>/virtual-devices/<serial>/` and runs each as a detached
`python -m edgebench.virtual.serve FOLDER`; `edgebench virtual-device start|stop|list` drives it.
Without host root the sandbox still works but the shell is uid 0 *inside* the device (unprivileged
on the host); with no user namespaces at all a device refuses to start and says why.
"""

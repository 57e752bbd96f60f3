"""Virtual devices: adb-speaking stand-ins for phones, so the whole adb path runs without a phone.

A virtual device is a real adb peer (device side of the adb protocol, `adb_protocol.py`) listening
on 127.0.0.1:PORT; `adb connect` adds it to any adb server (tested with adb 29 and 36). Behind it:

- `shell:`/`shell,v2,...:`/`exec:` run in a sandbox (`sandbox.py`, `nsinit.py`): private user,
  mount, PID, network, UTS, IPC and time namespaces, the device folder as `/`, uid 2000 with no
  capabilities and no_new_privs, Debian `mksh` as /system/bin/sh (`android_sh.py`) and `toybox`
  applets, host `/usr` read-only, a real procfs with the profile's /proc/cpuinfo bound over it;
- `logcat`/`log` are clients of a log daemon in the device process (`logd.py`, `device_log.py`,
  `logcat_args.py`), which the device's own services also write to (`service_log.py`);
- `sync:` (push/pull/ls/stat) resolves every path inside the device root with openat2
  (RESOLVE_IN_ROOT) and runs as the shell user in a helper process (`fs_ops.py`, `device_fs.py`,
  `sync_service.py`): the device process never changes its own ids, so the gauge thread stays root;
- getprop/setprop/dumpsys (battery, thermalservice) are POSIX sh scripts inside the image
  (`device_scripts/`), reading /system/build.prop, /sys and state files under /data, so they behave
  the same from `adb shell` as from edgebench;
- the image (`image.py`) comes from a profile (`profiles.py`, device_profiles/*.json, derived from
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
A device stopped and started again on its port keeps its folder, identity and battery charge.
Without host root the sandbox still works but the shell is uid 0 *inside* the device (unprivileged
on the host); with no user namespaces at all a device refuses to start and says why.

Faults (`faults.py`, `fault_control.py`, `nospace.py`; control socket `control.py`):
    edgebench virtual-device fault SERIAL [--drop-after-bytes N | --drop-after-seconds S]
        [--come-back-after T] [--no-space | --space] [--slow-link KBPS] [--state unauthorized|offline|device]
        [--kill-harness] [--reboot] [--stale-gauge | --live-gauge] [--throttle 0..6] [--usb-power on|off]
        [--weak-charger MA] [--battery-level PCT] [--clear] [--json]          (no flag: print the fault state)
The same flags (but --kill-harness/--reboot/--clear) are accepted by `virtual-device start`.
unauthorized/offline are made in the adb handshake (AUTH tokens refused / CNXN unanswered), so the
real adb server shows them; a drop cuts the TCP connections and closes the port T seconds (adb 36
reconnects by itself within ~3 s after that, adb 29 after ~10 s; `adb disconnect` + `adb connect`
is immediate). --reboot also wipes /data/local/tmp (`adb reboot` does not).

Battery (`power_profile.py`: the profile's battery_model; `gauge.py`: battery and fuel gauge;
`power_host.py`: a host thread per device; `cpu_account.py`: device CPU time per cluster;
`power_soc.py`: the SoC power model). Every gauge period
(e.g. 175.8 ms) the host rewrites /sys/class/power_supply/battery/{current_now, current_avg,
voltage_now, charge_counter, capacity, status, temp, uevent} (rename over: never half a value) in
the profile's unit (uA | mA) and sign (charging_positive | discharging_positive), with the counter
floored to its quantum (e.g. 500 uAh), gain/offset error, drift and read noise; current_now is
low-passed. System power = idle floor + screen (while Awake) + radio (unless airplane mode: idle
plus its own wake-ups) + the SoC model (power_profile.xml-shaped core power at each cluster's
governor frequency, cluster/active/idle/suspend power, a tail after bursts). USB charges
unless `setprop power.battery_input.suspended true` (or `dumpsys battery suspend_input`, debuggable
builds only; `dumpsys battery reset` ends that one) or `--usb-power off` (usb/online follows VBUS);
`--weak-charger MA` keeps USB online but supplies at most MA mA, so above that load the battery
discharges (status Discharging) while USB carries part of it; `dumpsys battery unplug`
only freezes what dumpsys prints, the real charging goes on. Device-side state:
`input keyevent POWER|SLEEP|WAKEUP` and `svc power stayon` -> `dumpsys power` (mWakefulness);
`settings get|put global airplane_mode_on`, `cmd connectivity airplane-mode [enable|disable]`;
`dumpsys deviceidle [force-idle|unforce|step|get deep|light|...]` (Doze, kept, reported only).
ODPM rails (profiles with power_rails): `dumpsys powerstats` lists the channels as AndroidX expects,
/sys/bus/iio/devices/iio:device0/energy_value holds `t=<ms>` and `CH<i>(T=<ms>)[<rail>], <uWs>`;
they meter the same draws the battery supplies (a CPU rail: its cluster's power with its share of
cpu.active and the tail, cluster 0's also cpu.idle/suspend; `"carries": "screen"|"radio"` rails: the screen, the radio).
Thermal (`thermal.py`): --throttle N raises zone temps, sets cooling_device*/cur_state > 0,
lowers scaling_max_freq and the scaling_cur_freq of busy clusters, `dumpsys thermalservice` says
`Thermal Status: N`. --stale-gauge freezes every battery value (the truth keeps counting).

True energy (`energy_truth.py`), for checking a battery-profiling estimator. The orchestrator marks
its measured window from the device shell:
    setprop debug.edgebench.window "<run_id> start"
    setprop debug.edgebench.window "<run_id> end <inferences>"
(run_id: 1-64 of [A-Za-z0-9._:-]; setprop stamps each with CLOCK_BOOTTIME into
/data/vendor/edgebench/window_events). At each end the host appends one record to
<device folder>/energy_truth.jsonl - OUTSIDE the device's `/`, never readable through adb:
run_id, status (ok | no_inferences | no_start), start/end_boottime_s, window_s, inferences,
workload_energy_mj (MARGINAL: the device's energy minus that of the same device without the workload,
from a second SoC model fed edgebench_sampler's load alone; a burst's tail counts while in the window,
gauge errors never), attributed_energy_mj (diagnostic), workload_cpu_s, mean_workload_power_mw,
energy_per_inference_mj (= workload_energy_mj / inferences), device_energy_mj (all the battery gave).
    edgebench virtual-device energy-truth SERIAL [--run-id ID] --json
Compare it with (P_active - P_idle) x T / N from the gauge. Markers set before the device process
started are ignored.

CPUs: profiles claim 8-9 CPUs; the host may have 2. The device's `taskset` maps a device mask onto
the host CPUs the device may use (sched_getaffinity, /vendor/etc/edgebench/cpu_map): device CPU d
runs on host CPU host[d mod len(host)], so `taskset f0 prog` works; bits beyond the profile's CPUs
are ignored and a mask with none of its CPUs fails as on a phone ("Invalid argument"). The device
mask is exported to the program as EDGEBENCH_DEVICE_CPU_MASK (`taskset -p` prints it back, the
power model charges that cluster's power); /proc/PID/status Cpus_allowed_list shows host CPUs.
"""

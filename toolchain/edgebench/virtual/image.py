"""Write a virtual device's root filesystem from its profile and identity.

The "partitions" a phone cannot change (`/system`, `/vendor`, `/sys`, fake `/proc` files) are
rewritten on every start; `/data`, `/storage` and `/tmp` persist, like a phone's user data. Inside the
sandbox `/system`, `/vendor` and `/sys` are read-only; the host's battery/thermal model
(power_host.py) replaces `/sys` and `/vendor/etc/edgebench` files and the device sees them at once.
"""
from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from edgebench.virtual.android_sh import install_sh
from edgebench.virtual.profiles import Profile
from edgebench.virtual.thermal import write_static as write_thermal_static

SHELL_UID = 2000  # AID_SHELL: what `adb shell` runs as on a user build
SDCARD_RW_GID = 1015
SCRIPTS = ("getprop", "setprop", "dumpsys", "taskset", "settings", "cmd", "input", "svc", "logcat", "log", "nproc", "pm", "am")
# Applets of Android's toybox that Debian's toybox build leaves out: the host's GNU/util-linux tools
# (under the bound /usr) stand in for them, so phone scripts using them do not fail with 127.
HOST_APPLETS = ("dd", "tr", "diff", "expr", "gzip", "getopt", "stty", "lsof", "more")
# Regenerated on every start; everything else under root/ persists.
VOLATILE = ("system", "vendor", "sys")
# Host folders bound read-only into the device so Debian's mksh/toybox and their libraries run.
HOST_USR = "/usr"
STATE_DIR = "data/vendor/edgebench"  # device-side state of getprop/setprop/dumpsys battery


def host_lib_entries() -> dict[str, str | None]:
    """/lib* of the host: name -> symlink target (merged /usr) or None (a real folder to bind)."""
    entries: dict[str, str | None] = {}
    for name in ("lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            entries[name] = os.readlink(path)
        elif path.is_dir():
            entries[name] = None
    return entries


def identity_properties(profile: Profile, *, serial: str, abi: str, port: int) -> dict[str, str]:
    props = dict(profile.properties)
    for key in ("ro.kernel.qemu", "ro.boot.qemu"):  # never look like an emulator
        props.pop(key, None)
    props.update({
        "ro.serialno": serial,
        "ro.boot.serialno": serial,
        "ro.edgebench.virtual": "1",
        "ro.edgebench.profile": profile.name,
        "ro.product.cpu.abi": abi,
        "service.adb.tcp.port": str(port),
    })
    if abi == "x86_64":
        props.update({"ro.product.cpu.abilist": "x86_64", "ro.product.cpu.abilist64": "x86_64",
                      "ro.product.cpu.abilist32": ""})
    else:
        props.setdefault("ro.product.cpu.abilist", abi)
        props["ro.product.cpu.abilist64"] = abi
    return props


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _chown(path: Path, uid: int, gid: int) -> None:
    if os.geteuid() == 0:  # rootless hosts cannot give files away; the shell is uid 0 there anyway
        os.chown(path, uid, gid, follow_symlinks=False)


def _cpu_list(cpus: tuple[int, ...]) -> str:
    """Kernel cpulist text: (0, 1, 2, 3, 8) -> '0-3,8'."""
    parts, start = [], None
    for i, cpu in enumerate(cpus):
        if start is None:
            start = cpu
        if i + 1 == len(cpus) or cpus[i + 1] != cpu + 1:
            parts.append(str(start) if start == cpu else f"{start}-{cpu}")
            start = None
    return ",".join(parts)


def _cpu_sysfs(sys_root: Path, profile: Profile) -> None:
    cpu_dir = sys_root / "devices/system/cpu"
    _write(cpu_dir / "kernel_max", f"{profile.cpu_kernel_max}\n")
    for name, value in (("possible", profile.cpu_possible), ("present", profile.cpu_present),
                        ("online", profile.cpu_online)):
        _write(cpu_dir / name, f"{value}\n")
    for package_id, cluster in enumerate(profile.clusters):
        first = cluster.cpus[0]
        policy = cpu_dir / "cpufreq" / f"policy{first}"
        f = cluster.cpufreq
        cpus_text = " ".join(str(c) for c in cluster.cpus) + "\n"
        files = {
            "affected_cpus": cpus_text,
            "related_cpus": cpus_text,
            "cpuinfo_min_freq": f"{f['cpuinfo_min_freq_khz']}\n",
            "cpuinfo_max_freq": f"{f['cpuinfo_max_freq_khz']}\n",
            "cpuinfo_cur_freq": f"{f['scaling_cur_freq_khz']}\n",
            # The kernel prints lists with a space after every item.
            "scaling_available_frequencies": "".join(f"{x} " for x in f["scaling_available_frequencies_khz"]) + "\n",
            "scaling_available_governors": "".join(f"{x} " for x in f["scaling_available_governors"]) + "\n",
            "scaling_cur_freq": f"{f['scaling_cur_freq_khz']}\n",
            "scaling_min_freq": f"{f['scaling_min_freq_khz']}\n",
            "scaling_max_freq": f"{f['scaling_max_freq_khz']}\n",
            "scaling_governor": f"{f['scaling_governor']}\n",
            "scaling_driver": f"{f['scaling_driver']}\n",
        }
        if f.get("cpuinfo_transition_latency_ns") is not None:
            files["cpuinfo_transition_latency"] = f"{f['cpuinfo_transition_latency_ns']}\n"
        for name, text in files.items():
            _write(policy / name, text)
        for core_id, cpu in enumerate(cluster.cpus):
            cdir = cpu_dir / f"cpu{cpu}"
            cdir.mkdir(parents=True, exist_ok=True)
            os.symlink(f"../cpufreq/policy{first}", cdir / "cpufreq")
            _write(cdir / "cpu_capacity", f"{cluster.cpu_capacity}\n")
            _write(cdir / "online", "1\n")
            _write(cdir / "topology/core_id", f"{core_id}\n")
            _write(cdir / "topology/physical_package_id", f"{package_id}\n")
            _write(cdir / "topology/cluster_id", f"{package_id}\n")
            _write(cdir / "topology/core_siblings_list", f"{_cpu_list(cluster.cpus)}\n")


def _thermal_sysfs(sys_root: Path, profile: Profile) -> str:
    hal_lines = []
    for index, zone in enumerate(profile.thermal_zones):
        zdir = sys_root / f"class/thermal/thermal_zone{index}"
        _write(zdir / "type", f"{zone.type}\n")
        _write(zdir / "temp", f"{zone.temp_millic}\n")
        _write(zdir / "mode", "enabled\n")
        if zone.hal_type is not None:
            hal_lines.append(f"{index} {zone.hal_type} {zone.hal_name}\n")
    return "".join(hal_lines)


def _power_supply_sysfs(sys_root: Path, profile: Profile) -> None:
    supply = profile.power_supply
    kinds = {"battery": "Battery", "usb": "USB", "ac": "Mains", "wireless": "Wireless"}
    for name, kind in kinds.items():
        values = supply.get(name)
        if values is None:
            continue
        sdir = sys_root / "class/power_supply" / name
        attrs = {"type": kind, **values}
        if name == "battery" and "current_now" in values:
            attrs["current_avg"] = values["current_now"]  # the gauge model keeps both live
        uevent = [f"POWER_SUPPLY_NAME={name}"]
        for attr, value in attrs.items():
            _write(sdir / attr, f"{value}\n")
            uevent.append(f"POWER_SUPPLY_{attr.upper()}={value}")
        _write(sdir / "uevent", "\n".join(uevent) + "\n")


def host_cpus() -> list[int]:
    """The host CPUs this process (and so the device) may run on."""
    return sorted(os.sched_getaffinity(0))


def _cpu_map(profile: Profile) -> str:
    """For the device's taskset: device CPU d runs on host CPU host[d mod len(host)]."""
    ncpus = max(c for cluster in profile.clusters for c in cluster.cpus) + 1
    return f"ncpus {ncpus}\nhost {' '.join(str(c) for c in host_cpus())}\n"


def _power_rails(root: Path, profile: Profile) -> None:
    rails = profile.battery.rails
    if not rails:
        return
    _write(root / "vendor/etc/edgebench/power_rails",
           "".join(f"{i} {r.name} {r.subsystem}\n" for i, r in enumerate(rails)))
    iio = root / "sys/bus/iio/devices/iio:device0"
    _write(iio / "name", f"{profile.battery.rails_iio_name}\n")
    _write(iio / "energy_value", "t=0\n" + "".join(f"CH{i}(T=0)[{r.name}], 0\n" for i, r in enumerate(rails)))


def _battery_conf(profile: Profile) -> tuple[str, str]:
    d = profile.power_supply.get("dumpsys", {})
    conf = [f"DOCK_LINE={1 if d.get('has_dock_line') else 0}"]
    for key, var in (("charging_state", "CHARGING_STATE"), ("charging_policy", "CHARGING_POLICY")):
        conf.append(f"{var}={'' if d.get(key) is None else d[key]}")
    extra = "".join(f"{line}\n" for line in d.get("extra_lines", []))
    return "\n".join(conf) + "\n", extra


def _system(root: Path, props: dict[str, str], abi: str) -> None:
    bin_dir = root / "system/bin"
    bin_dir.mkdir(parents=True)
    (root / "system/xbin").mkdir()
    install_sh(bin_dir / "sh")  # Debian's mksh, its messages without Debian's "E: " prefix
    os.symlink("/usr/bin/toybox", bin_dir / "toybox")
    for applet in toybox_applets():
        if applet not in SCRIPTS and applet != "sh" and not (bin_dir / applet).exists():
            os.symlink("toybox", bin_dir / applet)
    for applet in HOST_APPLETS:
        if not (bin_dir / applet).exists() and Path("/usr/bin", applet).exists():
            os.symlink(f"/usr/bin/{applet}", bin_dir / applet)
    ip = next((Path(d, "ip") for d in ("/usr/sbin", "/usr/bin") if Path(d, "ip").exists()), None)
    if ip is not None and not (bin_dir / "ip").exists():  # phones ship iproute2's ip
        os.symlink(os.path.realpath(ip), bin_dir / "ip")  # /bin means /system/bin inside
    if Path("/usr/bin/mawk").exists():  # phones ship an awk outside toybox
        os.symlink("/usr/bin/mawk", bin_dir / "awk")
    scripts = resources.files("edgebench.virtual") / "device_scripts"
    for name in SCRIPTS + (("uname",) if abi == "arm64-v8a" else ()):
        if (bin_dir / name).is_symlink():
            (bin_dir / name).unlink()
        _write(bin_dir / name, (scripts / name).read_text(), 0o755)
    etc = root / "system/etc"
    _write(etc / "passwd", "root:x:0:0::/:/system/bin/sh\nshell:x:2000:2000::/:/system/bin/sh\n")
    _write(etc / "group", "root:x:0:\ninput:x:1004:\nlog:x:1007:\nadb:x:1011:\nsdcard_rw:x:1015:\n"
                          "sdcard_r:x:1028:\ninet:x:3003:\nshell:x:2000:\n")
    _write(etc / "hosts", "127.0.0.1       localhost\n::1             ip6-localhost\n")
    _write(etc / "mkshrc", (scripts / "mkshrc").read_text())
    _write(etc / "edgebench/kv.sh", (scripts / "kv.sh").read_text())
    _write(root / "system/build.prop", "".join(f"{k}={v}\n" for k, v in sorted(props.items())))


_APPLETS: list[str] | None = None


def toybox_applets() -> list[str]:
    global _APPLETS
    if _APPLETS is None:
        import subprocess
        out = subprocess.run(["/usr/bin/toybox"], capture_output=True, text=True, check=True).stdout
        _APPLETS = [a for a in out.split() if a.replace("-", "").replace("_", "").isalnum()]
    return _APPLETS


def build_image(root: Path, overlay: Path, profile: Profile, *, serial: str, abi: str, port: int,
                cpuinfo: str = "profile") -> None:
    """(Re)write the volatile parts of the device's root fs and reset its per-boot state."""
    root.mkdir(parents=True, exist_ok=True)
    for name in VOLATILE:
        if (root / name).exists():
            shutil.rmtree(root / name)
    if overlay.exists():
        shutil.rmtree(overlay)
    props = identity_properties(profile, serial=serial, abi=abi, port=port)
    _system(root, props, abi)
    (root / "vendor/bin").mkdir(parents=True)
    battery_conf, battery_extra = _battery_conf(profile)
    _write(root / "vendor/etc/edgebench/battery.conf", battery_conf)
    _write(root / "vendor/etc/edgebench/battery_extra.txt", battery_extra)
    sys_root = root / "sys"
    _cpu_sysfs(sys_root, profile)
    _write(root / "vendor/etc/edgebench/thermal_hal", _thermal_sysfs(sys_root, profile))
    _power_supply_sysfs(sys_root, profile)
    write_thermal_static(root, profile)
    _power_rails(root, profile)
    _write(root / "vendor/etc/edgebench/cpu_map", _cpu_map(profile))
    cpuinfo_text = Path("/proc/cpuinfo").read_text() if cpuinfo == "host" else profile.proc_cpuinfo
    _write(overlay / "proc/cpuinfo", cpuinfo_text, 0o444)

    # Mount points and Android's root symlinks.
    for name in ("proc", "dev", "usr"):
        (root / name).mkdir(exist_ok=True)
    for name, target in host_lib_entries().items():
        link = root / name
        if target is None:
            link.mkdir(exist_ok=True)
        elif not link.is_symlink():
            os.symlink(target, link)
    for name, target in (("bin", "/system/bin"), ("etc", "/system/etc"), ("sdcard", "/storage/self/primary")):
        if not (root / name).is_symlink():
            os.symlink(target, root / name)

    # Persistent user data, owned as on a phone.
    for rel, mode, uid, gid in (("data", 0o771, 0, 0), ("data/local", 0o751, 0, 0),
                                ("data/local/tmp", 0o771, SHELL_UID, SHELL_UID), ("data/vendor", 0o771, 0, 0),
                                (STATE_DIR, 0o770, SHELL_UID, SHELL_UID), ("storage", 0o755, 0, 0),
                                ("storage/emulated", 0o711, 0, 0),
                                ("storage/emulated/0", 0o770, SHELL_UID, SDCARD_RW_GID),
                                ("storage/self", 0o755, 0, 0), ("tmp", 0o1777, 0, 0)):
        path = root / rel
        path.mkdir(exist_ok=True)
        path.chmod(mode)
        _chown(path, uid, gid)
    primary = root / "storage/self/primary"
    if not primary.is_symlink():
        os.symlink("/storage/emulated/0", primary)
    reset_boot_state(root)


def reset_boot_state(root: Path) -> None:
    """What a reboot forgets: properties set at run time (except persist.*), dumpsys battery
    overrides, screen and Doze state (settings, like airplane mode, persist)."""
    state = root / STATE_DIR
    props = state / "props"
    if props.exists():
        kept = [line for line in props.read_text().splitlines(keepends=True) if line.startswith("persist.")]
        props.write_text("".join(kept))
    for name in ("battery", "power", "deviceidle"):
        (state / name).unlink(missing_ok=True)


def set_runtime_property(root: Path, key: str, value: str) -> None:
    """Set a property as `setprop` would (used for facts known only once the sandbox runs)."""
    props = root / STATE_DIR / "props"
    lines = props.read_text().splitlines() if props.exists() else []
    lines = [line for line in lines if not line.startswith(f"{key}=")] + [f"{key}={value}"]
    props.write_text("\n".join(lines) + "\n")
    _chown(props, SHELL_UID, SHELL_UID)

"""`edgebench doctor`: check up front everything a run needs on a target, and say what to fix."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from edgebench.errors import EdgebenchError
from edgebench.targets.base import Target

# A run folder needs room for the harness, the runtime and a few models.
MIN_FREE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str | None = None


def _attempt(check: str, fn: Callable[[], str], fix: str) -> Finding:
    try:
        return Finding(check, True, fn())
    except EdgebenchError as exc:
        return Finding(check, False, str(exc), fix)


def diagnose(target: Target, *, harness_root: Path, state: str = "device") -> list[Finding]:
    """Findings for one target, in the order a user should fix them."""
    from edgebench.harness.build import build_harness
    from edgebench.harness.litert_lib import find_litert_library

    findings: list[Finding] = []
    if state != "device":
        from edgebench.targets import _STATE_ADVICE

        return [Finding("state", False, f"device is {state}",
                        _STATE_ADVICE.get(state, "check the cable and `adb devices -l`"))]
    findings.append(_attempt("identity", lambda: f"{target.describe().device_kind} "
                             f"{target.describe().model or ''} ({target.describe().abi})",
                             "the device must answer getprop; reboot it if it does not"))
    if target.android is not None:
        v2 = target.android.has_exit_codes()
        findings.append(Finding("shell_v2", v2,
                                "adbd reports shell_v2 (exit codes)" if v2 else
                                "adbd lacks shell_v2: exit codes come from an echo workaround",
                                None if v2 else "update the device's OS if you can"))
    findings.append(_attempt("run_folder", lambda: _exec_probe(target),
                             "the run folder must be writable and executable by the shell user: "
                             "on Android use /data/local/tmp (apps' folders are W^X since Android 10)"))
    findings.append(_attempt("free_space", lambda: _space(target),
                             "free at least 200 MB in /data/local/tmp (delete old run folders: "
                             "rm -rf /data/local/tmp/edgebench/runs)"))
    abi = target.harness_abi
    findings.append(_attempt("harness_build", lambda: str(build_harness(abi, out_root=harness_root).runner_path),
                             f"build it: edgebench harness build --abi {abi}"
                             + (" --ndk PATH_TO_ANDROID_NDK" if abi not in ("host", "aarch64-linux") else "")))
    findings.append(_attempt("runtime_library", lambda: str(find_litert_library(abi)),
                             "put the device's libLiteRt.so where the message says (see README: runtimes)"))
    return findings


def _exec_probe(target: Target) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.sh"
        probe.write_text("#!/system/bin/sh\necho edgebench-exec-ok\n")
        probe.chmod(0o755)
        target.stage({"bin/edgebench_probe.sh": probe})
    path = target.device_path("bin/edgebench_probe.sh")
    if target.android is not None:
        # Run it as a program, not through sh: noexec mounts must fail here.
        out = target.android.files.execute(path)
        if "edgebench-exec-ok" not in out.stdout:
            raise EdgebenchError(f"<{target.name}> {path} could not be executed: {out.said(300)}")
        return f"{path} executes"
    return f"{path} staged"


def _space(target: Target) -> str:
    import shutil

    from edgebench.targets.adb import DEVICE_ROOT

    free = target.android.files.free_bytes(DEVICE_ROOT.rsplit("/", 1)[0]) if target.android is not None \
        else shutil.disk_usage(target.device_path(".")).free  # the local target's run folder
    if free is None:
        raise EdgebenchError(f"<{target.name}> free space unreadable")
    if free < MIN_FREE_BYTES:
        raise EdgebenchError(f"<{target.name}> only {free / 2**20:.0f} MB free in the run folder")
    return f"{free / 2**30:.1f} GB free"

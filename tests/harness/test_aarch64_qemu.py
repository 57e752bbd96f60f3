"""The aarch64 Linux build (zig cc) runs under qemu-aarch64-static against the aarch64 libLiteRt.so
from PyPI's manylinux_2_27_aarch64 wheel.

Needs: Debian qemu-user-static and the aarch64 glibc/libstdc++ (libc6-arm64-cross,
libstdc++6-arm64-cross, libgcc-s1-arm64-cross: the wheel's library needs glibc >= 2.34), the
`ziglang` package, and PyPI once (the runtime is cached with the builds).

qemu-user shows the guest the host's x86 /proc/cpuinfo, on which XNNPACK's CPU detection crashes
(SIGSEGV while compiling the model). qemu's -L prefix is also searched for absolute paths the guest
opens, so a prefix holding the aarch64 libraries plus a real aarch64 `proc/cpuinfo` (the Galaxy S9
capture) fixes it without a mount namespace.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from edgebench.errors import HarnessError
from edgebench.harness.build import build_harness
from edgebench.harness.litert_lib import fetch_litert_runtime

from .conftest import REAL_MODELS, REPO

CROSS_LIBS = Path("/usr/aarch64-linux-gnu")
CPUINFO = REPO / "fixtures" / "real-device" / "f_cpuinfo_cpufreq_thermal" / "galaxy_s9_us_sd845_proc_cpuinfo.txt"


@pytest.fixture(scope="module")
def aarch64(harness_cache, tmp_path_factory):
    qemu = shutil.which("qemu-aarch64-static")
    if qemu is None or not (CROSS_LIBS / "lib" / "ld-linux-aarch64.so.1").exists():
        pytest.skip("needs qemu-user-static and libc6-arm64-cross (see .ci/apt-packages.txt)")
    if importlib.util.find_spec("ziglang") is None:
        pytest.skip("needs the ziglang package for the aarch64 build")
    build = build_harness("aarch64-linux", out_root=harness_cache)
    try:
        lib = fetch_litert_runtime("aarch64-linux", cache_root=harness_cache)
    except HarnessError as exc:  # no network to PyPI: nothing to run against
        pytest.skip(f"cannot fetch the aarch64 LiteRT runtime: {exc}")
    prefix = tmp_path_factory.mktemp("qemu-prefix")
    for entry in CROSS_LIBS.iterdir():
        (prefix / entry.name).symlink_to(entry)
    (prefix / "proc").mkdir()
    shutil.copy(CPUINFO, prefix / "proc" / "cpuinfo")
    return build, lib, [qemu, "-L", str(prefix)]


def run(cmd: list[str], timeout: float = 600) -> tuple[int, list[dict]]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_build_is_an_aarch64_executable(aarch64):
    build, _, _ = aarch64
    header = build.runner_path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183  # EM_AARCH64
    assert build.abi == "aarch64-linux" and "zig" in build.compiler


def test_runner_under_qemu_matches_the_host_on_an_integer_model(aarch64, run_runner):
    build, lib, qemu = aarch64
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    args = ["--model", str(model), "--lib", str(lib), "--runs", "3", "--min-seconds", "0", "--input-seed", "4"]
    code, lines = run([*qemu, str(build.runner_path), *args])
    assert code == 0, lines[-2:]
    by_type = {line["type"]: line for line in lines}
    assert by_type["runtime"]["api_generation"] == "2.2+"
    runtime_json = json.loads((lib.parent / "runtime.json").read_text())
    assert by_type["runtime"]["library_sha256"] == runtime_json["library_sha256"]
    assert by_type["summary"]["count"] == 3 and by_type["end"]["status"] == "ok"
    # Integer ADD: the same bytes on aarch64 (emulated) and x86_64.
    host = run_runner(model, "--runs", "3", "--min-seconds", "0", "--input-seed", "4")
    assert by_type["output"]["checksum"] == host.one("output")["checksum"]


def test_float_model_and_sampler_under_qemu(aarch64, tmp_path):
    build, lib, qemu = aarch64
    code, lines = run([*qemu, str(build.runner_path), "--model",
                       str(REAL_MODELS / "tflm_hello_world_float.tflite"), "--lib", str(lib),
                       "--runs", "2", "--min-seconds", "0", "--input-shape", "0:3,1"])
    assert code == 0 and lines[-1]["status"] == "ok"
    setup = next(line for line in lines if line["type"] == "setup")
    assert setup["outputs"][0]["shape"] == [3, 1]
    node = tmp_path / "node"
    node.write_text("42\n")
    out = tmp_path / "s.jsonl"
    proc = subprocess.Popen([*qemu, str(build.sampler_path), "--interval-ms", "50", "--out", str(out), str(node)])
    import time

    deadline = time.monotonic() + 30
    while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    samples = [json.loads(line) for line in out.read_text().splitlines()]
    assert samples[-1]["event"] == "end" and samples[1]["values"] == ["42"]

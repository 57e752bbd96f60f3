"""Harness builds: cached by build id, clear errors for what cannot be built here, runtime lookup."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edgebench.errors import HarnessError
from edgebench.harness import build as build_mod
from edgebench.harness.build import HarnessBuild, build_harness
from edgebench.harness.litert_lib import find_litert_library, runtime_dir


def test_host_build_is_complete_and_warning_free(host_build: HarnessBuild):
    assert host_build.abi == "host"
    assert host_build.runner_path.is_file() and os.access(host_build.runner_path, os.X_OK)
    assert host_build.sampler_path.is_file() and os.access(host_build.sampler_path, os.X_OK)
    assert host_build.runner_path.parent.parent.name == host_build.build_id
    meta = json.loads((host_build.runner_path.parent.parent / "build.json").read_text())
    assert meta["build_id"] == host_build.build_id and meta["compiler"] == host_build.compiler
    assert meta["warnings"] == []  # -Wall -Wextra clean
    assert set(meta["sources"]) >= {"runner.c", "sampler.c", "litert_api.h", "CMakeLists.txt"}


def test_build_is_reused_until_forced(tmp_path):
    first = build_harness("host", out_root=tmp_path)
    stamp = first.runner_path.stat().st_mtime_ns
    again = build_harness("host", out_root=tmp_path)
    assert again == first and again.runner_path.stat().st_mtime_ns == stamp
    forced = build_harness("host", out_root=tmp_path, force=True)
    assert forced.build_id == first.build_id and forced.runner_path.stat().st_mtime_ns != stamp
    assert [p.name for p in (tmp_path / "host").iterdir()] == [first.build_id]  # no scratch left


def test_a_concurrent_build_that_finished_first_is_kept_not_deleted_under_its_users(tmp_path, monkeypatch):
    # Lab workers on one host share the build cache: a slower twin build must not delete (and replace)
    # the folder another process is already running binaries from.
    first = build_harness("host", out_root=tmp_path)
    inode = first.runner_path.stat().st_ino
    (tmp_path / "host" / first.build_id / "build.json").unlink()  # as if that build were still under way
    real_build = build_mod._Toolchain.build

    def slower_twin(self, scratch):  # type: ignore[no-untyped-def]
        warnings = real_build(self, scratch)
        (first.runner_path.parent.parent / "build.json").write_text("{}")  # the other process finishes first
        return warnings

    monkeypatch.setattr(build_mod._Toolchain, "build", slower_twin)
    again = build_harness("host", out_root=tmp_path)
    assert again == first and again.runner_path.stat().st_ino == inode
    assert [p.name for p in (tmp_path / "host").iterdir()] == [first.build_id]  # no scratch left


def test_two_devices_building_at_once_never_replace_the_build_the_first_one_finished(tmp_path, monkeypatch):
    """Two device workers deploy at once on a fresh cache. Device B finishes compiling first but is slow to
    install; device A installs its build and starts using it. B must then use A's build, not move it aside and
    delete it (A's runner vanished from under it). B is held exactly where it looks whether a build is there."""
    real_build, real_exists = build_mod._Toolchain.build, Path.exists
    a_installed = threading.Event()
    final_of: dict[str, Path] = {}

    def build(self, scratch):  # type: ignore[no-untyped-def]
        warnings = real_build(self, scratch)
        if threading.current_thread().name == "A":
            time.sleep(0.3)  # B gets through its compile and its first look while A is still busy
        return warnings

    def exists(self: Path, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "B" and final_of and self == final_of["dir"]:
            a_installed.wait(10)  # B is descheduled here until A's build is in place
        return real_exists(self, *args, **kwargs)

    monkeypatch.setattr(build_mod._Toolchain, "build", build)
    monkeypatch.setattr(Path, "exists", exists)
    built: dict[str, HarnessBuild] = {}
    inode_when_a_had_it: list[int] = []
    errors: list[BaseException] = []
    final_of["dir"] = tmp_path / "host" / build_mod._build_id("host", build_mod._host_toolchain())

    def device() -> None:
        try:
            built[threading.current_thread().name] = result = build_harness("host", out_root=tmp_path)
            if threading.current_thread().name == "A":
                inode_when_a_had_it.append(result.runner_path.stat().st_ino)
                a_installed.set()
        except BaseException as exc:  # noqa: BLE001 - shown below
            errors.append(exc)
            a_installed.set()

    threads = [threading.Thread(target=device, name=name) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and built["A"] == built["B"]
    assert built["A"].runner_path.stat().st_ino == inode_when_a_had_it[0]  # A's build, never replaced
    assert [p.name for p in (tmp_path / "host").iterdir()] == [built["A"].build_id]  # no scratch left


def test_build_id_follows_sources_compiler_and_flags(monkeypatch):
    toolchain = build_mod._host_toolchain()
    base = build_mod._build_id("host", toolchain)
    other_compiler = build_mod._Toolchain(identity=toolchain.identity + " patched", flags=toolchain.flags,
                                          compile_cmd=toolchain.compile_cmd)
    other_flags = build_mod._Toolchain(identity=toolchain.identity, flags=(*toolchain.flags, "-O3"),
                                       compile_cmd=toolchain.compile_cmd)
    assert len({base, build_mod._build_id("host", other_compiler), build_mod._build_id("host", other_flags),
                build_mod._build_id("aarch64-linux", toolchain)}) == 4
    digests = build_mod._source_digests()
    monkeypatch.setattr(build_mod, "_source_digests", lambda: {**digests, "runner.c": "0" * 64})
    assert build_mod._build_id("host", toolchain) != base


def test_compile_errors_are_harness_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    with pytest.raises(HarnessError, match="no-such-cc"):
        build_harness("host", out_root=tmp_path)


def test_android_needs_an_ndk(tmp_path, monkeypatch):
    for var in ("ANDROID_NDK_HOME", "ANDROID_NDK_ROOT", "ANDROID_NDK"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(HarnessError, match="--ndk PATH"):
        build_harness("arm64-v8a", out_root=tmp_path)
    not_ndk = tmp_path / "not-an-ndk"
    not_ndk.mkdir()
    with pytest.raises(HarnessError, match="android.toolchain.cmake is missing"):
        build_harness("armeabi-v7a", out_root=tmp_path, ndk=not_ndk)


def test_android_cmake_arguments(tmp_path):
    ndk = tmp_path / "ndk"
    (ndk / "build" / "cmake").mkdir(parents=True)
    (ndk / "build" / "cmake" / "android.toolchain.cmake").write_text("# fake")
    (ndk / "source.properties").write_text("Pkg.Desc = Android NDK\nPkg.Revision = 27.1.12297006\n")
    toolchain = build_mod._android_toolchain("arm64-v8a", ndk)
    assert toolchain.identity == "Android NDK 27.1.12297006 (arm64-v8a, android-24)"
    assert f"-DCMAKE_TOOLCHAIN_FILE={ndk}/build/cmake/android.toolchain.cmake" in toolchain.cmake
    assert "-DANDROID_ABI=arm64-v8a" in toolchain.cmake


def test_host_runtime_is_found_without_importing_ai_edge_litert():
    code = ("import sys; from edgebench.harness.litert_lib import find_litert_library; "
            "p = find_litert_library('host'); print(p); print('ai_edge_litert' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(build_mod.__file__).parents[2])})
    path, imported = proc.stdout.split()
    assert Path(path).name == "libLiteRt.so" and Path(path).is_file() and imported == "False"


def test_missing_non_host_runtimes_say_how_to_get_them(tmp_path):
    with pytest.raises(HarnessError, match="fetch_litert_runtime"):
        find_litert_library("aarch64-linux", cache_root=tmp_path)
    with pytest.raises(HarnessError, match=r"jni/arm64-v8a/libLiteRt.so"):
        find_litert_library("arm64-v8a", cache_root=tmp_path)
    placed = runtime_dir("arm64-v8a", tmp_path) / "libLiteRt.so"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"\x7fELF")
    assert find_litert_library("arm64-v8a", cache_root=tmp_path) == placed


def test_cmake_file_builds_both_binaries_with_the_host_compiler(tmp_path):
    # The Android build goes through android_harness/CMakeLists.txt with the NDK's toolchain file,
    # which CI cannot install; building the same CMake project for the host at least proves it
    # lists every source and compiles warning-free.
    import shutil

    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    src = build_mod.HARNESS_ROOT
    subprocess.run(["cmake", "-S", str(src), "-B", str(tmp_path)], check=True, capture_output=True)
    built = subprocess.run(["cmake", "--build", str(tmp_path)], check=True, capture_output=True, text=True)
    assert "warning" not in (built.stdout + built.stderr).lower()
    version = subprocess.run([str(tmp_path / "edgebench_runner"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "schema 1" in version.stdout
    assert (tmp_path / "edgebench_sampler").is_file()

"""Build the native harness (edgebench_runner + edgebench_sampler) for an ABI, cached by build id.

ABIs:
  "host"                                  gcc (or cc) on this machine
  "aarch64-linux" (also "arm64-v8a-linux", "aarch64-linux-gnu")
                                          `python -m ziglang cc -target aarch64-linux-gnu.2.17`
  "arm64-v8a", "armeabi-v7a", "x86_64", "x86"
                                          Android, CMake + the NDK's toolchain file (needs `ndk`;
                                          untested in CI: no NDK can be installed here)

The build id is the sha256 of the sources, the compiler's identity, the target and the flags; a
build lives in `out_root/<abi>/<build_id>/` and is reused until one of those changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgebench.errors import HarnessError
from edgebench.harness.abi import canonical_abi
from edgebench.package_files import HARNESS_ROOT  # the C sources and CMakeLists.txt, shipped as package data
from edgebench.package_files import HARNESS_SOURCES as SRC_DIR

# Re-exported: callers find the runtime next to the build.
from edgebench.harness.litert_lib import fetch_litert_runtime, find_litert_library  # noqa: F401


RUNNER_SOURCES = ("runner.c", "runner_args.c", "runner_exit.c", "output.c", "library.c", "model.c",
                  "compile.c", "shapes.c", "buffers.c", "measure.c", "profile.c", "litert_api.c",
                  "crash_guard.c", "procinfo.c", "jsonl.c", "sha256.c", "file_hash.c", "stats.c",
                  "tensors.c", "agreement.c")
SAMPLER_SOURCES = ("sampler.c", "jsonl.c")
CFLAGS = ("-O2", "-std=c11", "-Wall", "-Wextra")
LDLIBS = ("-ldl", "-lm")  # dlopen lives in libdl before glibc 2.34
ZIG_TARGET = "aarch64-linux-gnu.2.17"  # oldest glibc zig can target: runs on any aarch64 distro
ANDROID_PLATFORM = "android-24"


@dataclass(frozen=True)
class HarnessBuild:
    abi: str
    runner_path: Path
    sampler_path: Path
    build_id: str
    compiler: str  # identity string of the compiler that produced the binaries


def build_harness(abi: str = "host", *, out_root: Path, ndk: Path | None = None,
                  force: bool = False) -> HarnessBuild:
    """Compile (or reuse) the runner and sampler for `abi` under `out_root/<abi>/<build_id>/`."""
    abi = canonical_abi(abi)
    out_root = Path(out_root)
    if abi == "host":
        toolchain = _host_toolchain()
    elif abi == "aarch64-linux":
        toolchain = _zig_toolchain()
    else:
        toolchain = _android_toolchain(abi, ndk)
    build_id = _build_id(abi, toolchain)
    final = out_root / abi / build_id
    result = HarnessBuild(abi=abi, runner_path=final / "bin" / "edgebench_runner",
                          sampler_path=final / "bin" / "edgebench_sampler", build_id=build_id,
                          compiler=toolchain.identity)
    if not force and result.runner_path.is_file() and result.sampler_path.is_file() \
            and (final / "build.json").is_file():
        return result
    final.parent.mkdir(parents=True, exist_ok=True)
    # Build in a scratch folder and rename: a concurrent or interrupted build never leaves a
    # half-written folder under the final name.
    scratch = Path(tempfile.mkdtemp(prefix=f".{build_id[:12]}-", dir=final.parent))
    try:
        warnings = toolchain.build(scratch)
        for name in ("edgebench_runner", "edgebench_sampler"):
            if not (scratch / "bin" / name).is_file():
                raise HarnessError(f"the {abi} build finished but produced no bin/{name} in {scratch}")
        (scratch / "build.json").write_text(json.dumps({
            "abi": abi, "build_id": build_id, "compiler": toolchain.identity,
            "flags": list(toolchain.flags), "sources": _source_digests(), "warnings": warnings,
        }, indent=1))
        if not force:
            # The rename is the test: it fails while `final` holds anything. A twin build (another device's
            # worker, another process) that got there first may be in use right now: keep it, never delete it
            # from under its users. (Checking first and renaming after left a gap in which one was deleted.)
            try:
                os.replace(scratch, final)
                return result
            except OSError:
                if (final / "build.json").is_file():
                    return result
        if final.exists():  # a forced rebuild, or what an older edgebench left half-written
            stale = Path(tempfile.mkdtemp(prefix=f".{build_id[:12]}-old-", dir=final.parent))
            os.replace(final, stale / "build")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(scratch, final)
        except OSError:
            if not (final / "build.json").is_file():  # lost a race to a complete twin: use it
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------
# toolchains


@dataclass(frozen=True)
class _Toolchain:
    identity: str
    flags: tuple[str, ...]
    compile_cmd: tuple[str, ...]  # compiler driver (may be several words)
    env: tuple[tuple[str, str], ...] = ()
    cmake: tuple[str, ...] | None = None  # Android: the CMake configure arguments

    def build(self, scratch: Path) -> list[str]:
        """Build into scratch/bin; return the compiler's warnings (lines)."""
        (scratch / "bin").mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **dict(self.env)}
        if self.cmake is not None:
            return self._cmake_build(scratch, env, self.cmake)
        warnings: list[str] = []
        for name, sources in (("edgebench_runner", RUNNER_SOURCES), ("edgebench_sampler", SAMPLER_SOURCES)):
            cmd = [*self.compile_cmd, *self.flags, "-o", str(scratch / "bin" / name),
                   *(str(SRC_DIR / s) for s in sources), *LDLIBS]
            warnings += _run(cmd, env, what=f"compiling {name}")
        return warnings

    def _cmake_build(self, scratch: Path, env: dict[str, str], cmake: tuple[str, ...]) -> list[str]:
        work = scratch / "cmake"
        out = _run(["cmake", "-S", str(HARNESS_ROOT), "-B", str(work), *cmake], env,
                   what="configuring the Android build (cmake)")
        out += _run(["cmake", "--build", str(work)], env, what="building for Android (cmake --build)")
        for name in ("edgebench_runner", "edgebench_sampler"):
            if (work / name).is_file():
                shutil.copy2(work / name, scratch / "bin" / name)
        return [line for line in out if "warning:" in line]


def _run(cmd: list[str], env: dict[str, str], *, what: str) -> list[str]:
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise HarnessError(f"{what}: {cmd[0]} is not installed (expected on PATH)") from None
    except subprocess.TimeoutExpired:
        raise HarnessError(f"{what}: gave up after 900 s\n  command: {' '.join(cmd)}") from None
    text = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        raise HarnessError(f"{what} failed (exit {proc.returncode}):\n{text.strip()[-4000:]}"
                           f"\n  command: {' '.join(cmd)}")
    return [line for line in text.splitlines() if "warning" in line.lower()]


def _first_line(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, **(env or {})})
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise HarnessError(f"cannot run {' '.join(cmd)}: {exc}") from None
    if proc.returncode != 0:
        raise HarnessError(f"{' '.join(cmd)} failed: {(proc.stderr or proc.stdout).strip()[:500]}")
    return (proc.stdout or proc.stderr).strip().splitlines()[0]


def _host_toolchain() -> _Toolchain:
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise HarnessError("the host build needs a C compiler: install gcc (Debian: apt-get install gcc) "
                           "or set CC")
    return _Toolchain(identity=_compiler_identity(cc), flags=CFLAGS, compile_cmd=(cc,))


_IDENTITIES: dict[tuple[str, int, int], str] = {}


def _compiler_identity(cc: str) -> str:
    """`cc --version` and `-dumpmachine`, asked again only when the compiler's file changes: every session
    checks the harness build, and two compiler processes cost about what a run's whole fixed cost does."""
    try:
        real = os.path.realpath(shutil.which(cc) or cc)
        st = os.stat(real)
        key = (real, st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None and key in _IDENTITIES:
        return _IDENTITIES[key]
    identity = f"{_first_line([cc, '--version'])} [{_first_line([cc, '-dumpmachine'])}]"
    if key is not None:
        _IDENTITIES[key] = identity
    return identity


def _zig_toolchain() -> _Toolchain:
    import importlib.util

    if importlib.util.find_spec("ziglang") is None:
        raise HarnessError("the aarch64-linux build uses zig from the PyPI package 'ziglang', which is "
                           f"not installed in {sys.executable}: pip install ziglang")
    cache = Path(tempfile.gettempdir()) / "edgebench-zig-cache"
    env = (("ZIG_GLOBAL_CACHE_DIR", str(cache)), ("ZIG_LOCAL_CACHE_DIR", str(cache)))
    zig = (sys.executable, "-m", "ziglang")
    version = _first_line([*zig, "version"], dict(env))
    return _Toolchain(identity=f"zig {version} cc -target {ZIG_TARGET}",
                      flags=("-target", ZIG_TARGET, *CFLAGS), compile_cmd=(*zig, "cc"), env=env)


def _android_toolchain(abi: str, ndk: Path | None) -> _Toolchain:
    ndk_dir = ndk or _ndk_from_env()
    if ndk_dir is None:
        raise HarnessError(f"the Android ABI {abi!r} is built with the Android NDK: pass ndk=PATH "
                           "(CLI: --ndk PATH) or set ANDROID_NDK_HOME; for this Linux machine use abi "
                           "'host', for aarch64 Linux boards 'aarch64-linux'")
    ndk_dir = Path(ndk_dir)
    toolchain_file = ndk_dir / "build" / "cmake" / "android.toolchain.cmake"
    if not toolchain_file.is_file():
        raise HarnessError(f"{ndk_dir} does not look like an Android NDK: {toolchain_file} is missing; "
                           "pass the NDK's top folder (the one with source.properties)")
    if shutil.which("cmake") is None:
        raise HarnessError("Android builds need cmake on PATH (Debian: apt-get install cmake)")
    revision = "unknown revision"
    props = ndk_dir / "source.properties"
    if props.is_file():
        for line in props.read_text(errors="replace").splitlines():
            if line.startswith("Pkg.Revision"):
                revision = line.split("=", 1)[1].strip()
    args = (f"-DCMAKE_TOOLCHAIN_FILE={toolchain_file}", f"-DANDROID_ABI={abi}",
            f"-DANDROID_PLATFORM={ANDROID_PLATFORM}", "-DCMAKE_BUILD_TYPE=Release")
    return _Toolchain(identity=f"Android NDK {revision} ({abi}, {ANDROID_PLATFORM})", flags=args,
                      compile_cmd=("cmake",), cmake=args)


def _ndk_from_env() -> Path | None:
    for var in ("ANDROID_NDK_HOME", "ANDROID_NDK_ROOT", "ANDROID_NDK"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return None


# ---------------------------------------------------------------------------------------------
# identity


def _source_digests() -> dict[str, str]:
    files = sorted(p for p in SRC_DIR.iterdir() if p.suffix in (".c", ".h"))
    files.append(HARNESS_ROOT / "CMakeLists.txt")
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def _build_id(abi: str, toolchain: _Toolchain) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"abi": abi, "compiler": toolchain.identity, "flags": list(toolchain.flags),
                         "ldlibs": list(LDLIBS), "sources": _source_digests()}, sort_keys=True).encode())
    return h.hexdigest()

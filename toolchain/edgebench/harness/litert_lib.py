"""Locate (and, at setup time, fetch) the LiteRT runtime library `libLiteRt.so` for a harness ABI.

host           the libLiteRt.so inside the installed `ai_edge_litert` package, found WITHOUT importing
               it (importlib.util.find_spec): importing would load TensorFlow-sized wrappers for nothing.
aarch64-linux  extracted from PyPI's manylinux aarch64 wheel of ai-edge-litert by
               `fetch_litert_runtime` into `cache_root/runtimes/...` (default cache_root:
               $EDGEBENCH_RUNTIME_CACHE or ~/.cache/edgebench). Downloading is a setup step
               (harness build / deploy), never part of a measured run.
Android ABIs   not on PyPI: put the library from the LiteRT Android package (AAR, jni/<abi>/libLiteRt.so)
               at `cache_root/runtimes/android-<abi>/libLiteRt.so`.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from edgebench.errors import HarnessError
from edgebench.harness.abi import canonical_abi

LITERT_VERSION = "2.3.0"
# PyPI platform tag of the Linux aarch64 wheel (manylinux2014 is NOT published for 2.3.0).
WHEEL_PLATFORMS = {"aarch64-linux": "manylinux_2_27_aarch64"}
WHEEL_PYTHON = "3.11"  # any CPython wheel carries the same libLiteRt.so; one fixed tag = one cache entry
LIBRARY_NAME = "libLiteRt.so"


def _default_cache_root() -> Path:
    # Downloaded runtimes are shared by every workspace of this user.
    return Path(os.environ.get("EDGEBENCH_RUNTIME_CACHE", "~/.cache/edgebench")).expanduser()


def runtime_dir(abi: str, cache_root: Path) -> Path:
    """Where the runtime for a non-host ABI is kept in the cache."""
    abi = canonical_abi(abi)
    if abi in WHEEL_PLATFORMS:
        return Path(cache_root) / "runtimes" / f"ai-edge-litert-{LITERT_VERSION}-{WHEEL_PLATFORMS[abi]}"
    return Path(cache_root) / "runtimes" / f"android-{abi}"


def host_litert_library() -> Path:
    spec = importlib.util.find_spec("ai_edge_litert")
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(f"the Python package ai_edge_litert is not installed in {sys.executable}; "
                           f"install it (pip install ai-edge-litert=={LITERT_VERSION}) to get libLiteRt.so")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / LIBRARY_NAME
        if candidate.is_file():
            return candidate
    raise HarnessError(f"ai_edge_litert is installed ({list(spec.submodule_search_locations)}) but has no "
                       f"{LIBRARY_NAME}; reinstall ai-edge-litert=={LITERT_VERSION}")


def find_litert_library(abi: str = "host", *, cache_root: Path | None = None) -> Path:
    """The libLiteRt.so to push with the harness for `abi`; HarnessError says how to get a missing one."""
    abi = canonical_abi(abi)
    if abi == "host":
        return host_litert_library()
    root = Path(cache_root) if cache_root is not None else _default_cache_root()
    path = runtime_dir(abi, root) / LIBRARY_NAME
    if path.is_file():
        return path
    if abi in WHEEL_PLATFORMS:
        raise HarnessError(f"no {abi} LiteRT runtime in the cache ({path}); fetch it once with "
                           f"edgebench.harness.litert_lib.fetch_litert_runtime({abi!r}, cache_root={str(root)!r}) "
                           f"(downloads ai-edge-litert=={LITERT_VERSION} for {WHEEL_PLATFORMS[abi]} from PyPI)")
    raise HarnessError(f"no Android {abi} LiteRT runtime at {path}; PyPI has none for Android. Copy "
                       f"jni/{abi}/{LIBRARY_NAME} from the LiteRT Android package (AAR) there")


def fetch_litert_runtime(abi: str, *, cache_root: Path, python: str = sys.executable,
                         force: bool = False) -> Path:
    """Download the ai-edge-litert wheel for `abi` with pip and extract libLiteRt.so into the cache.

    Setup-time only (network). Returns the library path; a second call reuses the cache.
    """
    abi = canonical_abi(abi)
    if abi not in WHEEL_PLATFORMS:
        raise HarnessError(f"no PyPI wheel carries the LiteRT runtime for {abi!r}; "
                           f"fetchable ABIs: {', '.join(WHEEL_PLATFORMS)}")
    target = runtime_dir(abi, Path(cache_root))
    library = target / LIBRARY_NAME
    if library.is_file() and not force:
        return library
    platform = WHEEL_PLATFORMS[abi]
    with tempfile.TemporaryDirectory(prefix="edgebench-wheel-") as tmp:
        cmd = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--platform", platform,
               "--python-version", WHEEL_PYTHON, f"ai-edge-litert=={LITERT_VERSION}", "-d", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"downloading the {abi} LiteRT wheel took over 900 s\n  command: {' '.join(cmd)}") from None
        wheels = sorted(Path(tmp).glob("ai_edge_litert-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise HarnessError(f"pip could not download ai-edge-litert=={LITERT_VERSION} for {platform} "
                               f"(exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-1500:]}"
                               f"\n  command: {' '.join(cmd)}")
        wheel = wheels[0]
        member = f"ai_edge_litert/{LIBRARY_NAME}"
        with zipfile.ZipFile(wheel) as zf:
            if member not in zf.namelist():
                raise HarnessError(f"{wheel.name} has no {member}; cannot use it as the {abi} runtime")
            staging = Path(tempfile.mkdtemp(prefix=".runtime-", dir=_ensure(target.parent)))
            staging.chmod(0o755)  # mkdtemp makes 0700 folders
            try:
                with zf.open(member) as src, open(staging / LIBRARY_NAME, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                digest = hashlib.sha256((staging / LIBRARY_NAME).read_bytes()).hexdigest()
                (staging / "runtime.json").write_text(json.dumps({
                    "package": "ai-edge-litert", "version": LITERT_VERSION, "platform": platform,
                    "wheel": wheel.name, "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                    "library_sha256": digest}, indent=1))
                if target.exists():
                    shutil.rmtree(target)
                os.replace(staging, target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    return library


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder

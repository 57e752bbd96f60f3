"""Fixtures for the native harness tests: a host build, the host LiteRT runtime, and runners."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from edgebench.harness.build import HarnessBuild, build_harness, find_litert_library

REPO = Path(__file__).resolve().parents[2]
REAL_MODELS = REPO / "fixtures" / "real-device" / "g_tflite_models"
OUR_MODELS = REPO / "fixtures" / "models"
TOOLS = REPO / "toolchain" / "edgebench" / "android_harness" / "tools"
DRIVER = REPO / "toolchain" / "edgebench" / "android_harness" / "driver" / "driver.sh"

# Keep runs short: these tests check behaviour, not speed.
QUICK = ("--warmup-runs", "1", "--runs", "3", "--min-seconds", "0")


@dataclass(frozen=True)
class RunnerResult:
    returncode: int
    lines: list[dict[str, Any]]
    stderr: str

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind} line, got {len(found)}: {self.types}"
        return found[0]

    @property
    def types(self) -> list[str]:
        return [line["type"] for line in self.lines]


@pytest.fixture(scope="session")
def host_build(harness_cache: Path) -> HarnessBuild:
    return build_harness("host", out_root=harness_cache)


@pytest.fixture(scope="session")
def litert_lib() -> Path:
    return find_litert_library("host")


@pytest.fixture(scope="session")
def run_runner(host_build: HarnessBuild, litert_lib: Path) -> Callable[..., RunnerResult]:
    """run_runner(model, *args, lib=None) -> RunnerResult (JSON lines parsed from stdout)."""

    def run(model: Path | str | None, *args: str, lib: Path | str | None = None,
            timeout: float = 180) -> RunnerResult:
        cmd = [str(host_build.runner_path)]
        if model is not None:
            cmd += ["--model", str(model)]
        cmd += ["--lib", str(lib if lib is not None else litert_lib), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        return RunnerResult(proc.returncode, lines, proc.stderr)

    return run


@pytest.fixture(scope="session")
def seeded() -> Any:
    """The Python twin of the runner's seeded inputs (android_harness/tools/seeded_inputs.py)."""
    sys.path.insert(0, str(TOOLS))
    try:
        import seeded_inputs
    finally:
        sys.path.remove(str(TOOLS))
    return seeded_inputs

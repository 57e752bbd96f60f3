"""The public Python API for notebooks and scripts. Every function returns typed records."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from edgebench.bench.input_shapes import ShapesArgument
from edgebench.bench.plan import PlannedRun
from edgebench.bench.session import PushAndRun, SessionResult
from edgebench.protocols import MAX_SECONDS, check_number, check_threads, resolve
from edgebench.records import RunRecord
from edgebench.store import DEFAULT_DB_OUTAGE_S, ResultsStore
from edgebench.store.buffered import MAX_DB_OUTAGE_S
from edgebench.targets import default_target, resolve_targets
from edgebench.workspace import Workspace

if TYPE_CHECKING:  # imported when called: inspecting loads the flatbuffer schema
    from edgebench.inspect.dispatch import InspectResult

__all__ = ["push_and_run", "open_store", "inspect_file"]


def open_store(workspace: str | os.PathLike[str] | None = None, *, url: str | None = None) -> ResultsStore:
    """The results store at `url` (`sqlite:///PATH` or `postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB`),
    else $EDGEBENCH_STORE, else the workspace's SQLite file."""
    return ResultsStore(url or Workspace.resolve(workspace).results_store)


def push_and_run(models: Sequence[str | os.PathLike[str]], *, target: str | None = None, protocol: str = "standard",
                 threads: Sequence[int] = (1,), accelerators: Sequence[str] = ("cpu",),
                 cpu_mask: str | None = None, runs: int | None = None, warmup: int | None = None,
                 min_seconds: float | None = None, repeats: int | None = None, cooldown: str | None = None,
                 run_delay_ms: float | None = None,
                 resume: str | None = None, keep: bool = False,
                 workspace: str | os.PathLike[str] | None = None,
                 on_stage: Callable[[PlannedRun, str, str], None] | None = None,
                 on_record: Callable[[RunRecord], None] | None = None,
                 on_plan: Callable[[int], None] | None = None, profile_ops: bool = False,
                 adb: str | None = None, runtime: str | os.PathLike[str] | None = None,
                 reconnect_timeout_s: float = 120.0, verify: bool = False, engine: str = "runner",
                 engine_binary: str | os.PathLike[str] | None = None,
                 input_shapes: ShapesArgument = None, store: str | None = None,
                 db_outage_s: float = DEFAULT_DB_OUTAGE_S, check_outputs: bool | None = None,
                 reference: str | os.PathLike[str] | None = None, batch: bool = True) -> SessionResult:
    """Measure models on targets and store the results.

    Args:
        models: .tflite paths. Unreadable paths are reported in `SessionResult.model_problems`;
            bad models that exist are run and recorded as failed with the runner's reason.
        target: "local", an adb serial, a comma-separated list, or "all" (default: $ANDROID_SERIAL, else local).
        runtime: a folder with the device's libLiteRt.so (and accelerator libraries) to push.
        engine: "runner" (edgebench's harness) or "benchmark_model" (the official binary at
            `engine_binary`, built for the device; parsed into the same records, without percentiles).
        verify: re-hash staged files on the device instead of trusting the manifest of pushes.
        reconnect_timeout_s: how long to wait for a device that dropped before giving up on it.
        adb: the adb server as HOST:PORT (default: $ADB_SERVER_SOCKET, else 127.0.0.1:5037).
        protocol: "smoke", "standard" or "mlperf"; the other numeric arguments override it.
        resume: a session id, or "latest", to continue a session and skip its stored runs.
        on_plan: called once with the number of runs each device will do.
        profile_ops: also time each op (after the timed loop); kept in the pulled runner.jsonl.
        input_shapes: shapes for inputs with dynamic (-1) dimensions: {"image": [1, 224, 224, 3]}, or
            flag values ["image=1,224,224,3"], or "default" (or a "default" item) to accept the file's
            placeholder shapes. A model with a dynamic dimension other than a leading batch and no
            shape is refused (its runs are recorded as failed with the reason); the shapes that ran
            are in each record's `input_shapes`.
        check_outputs: compare each run's outputs on the device with a reference run on CPU on the same
            seeded inputs (the `output_agreement` check); None: on for the standard and mlperf protocols.
        reference: the .tflite to compare with (default: the model's float parent when the artifact
            store knows it, else the model itself on CPU).
        store: the results store's URL (default: $EDGEBENCH_STORE, else the workspace's SQLite file).
        batch: run a device's plan in slices, many runs per device call, each stored as it arrives
            (False: one device call per run; the runs stored are the same).
        db_outage_s: how long the store may stay unreachable mid-session (seconds): the devices go on
            measuring and the runs wait in the workspace's outbox; after that the session stops with a
            StoreOutageError saying where they are (the next session with the workspace stores them).

    Returns:
        SessionResult with every run record of the session and per-config summaries.
    """
    ws = Workspace.resolve(workspace)
    binary = _engine_binary(engine, engine_binary)
    threads = check_threads(threads)
    check_number("--reconnect-timeout", reconnect_timeout_s, low=0, high=MAX_SECONDS)
    check_number("--db-outage", db_outage_s, low=0, high=MAX_DB_OUTAGE_S)
    resolved = resolve(protocol, runs=runs, warmup=warmup, min_seconds=min_seconds, repeats=repeats,
                       cooldown=cooldown, run_delay_ms=run_delay_ms)
    results = ResultsStore(store or ws.results_store)
    try:
        session = PushAndRun(workspace=ws, store=results, targets=resolve_targets(target or default_target(), ws, adb=adb),
                             on_stage=on_stage, on_record=on_record, on_plan=on_plan, keep=keep,
                             profile_ops=profile_ops, runtime_dir=Path(runtime) if runtime else None,
                             reconnect_timeout_s=reconnect_timeout_s, verify=verify, engine_binary=binary,
                             db_outage_s=db_outage_s, batch=batch)
        return session.run([Path(m) for m in models], protocol=resolved, threads=threads,
                           accelerators=accelerators, cpu_mask=cpu_mask, resume=resume,
                           command="push_and_run(api)", input_shapes=input_shapes,
                           check_outputs=check_outputs, reference=reference)
    finally:
        results.close()


def _engine_binary(engine: str, engine_binary: str | os.PathLike[str] | None) -> Path | None:
    from edgebench.errors import UsageError

    if engine == "runner":
        if engine_binary is not None:
            raise UsageError("--engine-binary goes with --engine benchmark_model")
        return None
    if engine != "benchmark_model":
        raise UsageError(f"--engine takes runner or benchmark_model. Received: {engine!r}.")
    if engine_binary is None:
        raise UsageError("--engine benchmark_model needs --engine-binary PATH: the benchmark_model binary "
                         "built for the device (LiteRT's releases or your own bazel build).")
    from edgebench.user_files import regular_file_problem

    path = Path(engine_binary)
    problem = regular_file_problem(path)
    if problem is not None:
        raise UsageError(f"--engine-binary {str(path)!r} {problem}. Expected the benchmark_model binary.")
    return path


def inspect_file(path: str | os.PathLike[str], as_format: str | None = None) -> InspectResult:
    """Read a .tflite model or a captured text output; returns an InspectResult."""
    from edgebench import inspect as _inspect

    return _inspect.inspect_file(Path(path), as_format=as_format)

"""The driver invocation of one run: the runner's arguments, the driver's environment and the timeout.

Latency runs (push-and-run) and battery runs (profile-battery) start the same driver and runner;
this is the one place that turns a protocol, a config and an input-shape plan into its words.
A battery run only adds the driver's idle windows (`IdleWindows`) around the same workload.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from edgebench.bench import benchmark_model_engine as bm
from edgebench.bench.input_shapes import ShapePlan
from edgebench.bench.plan import ModelFile
from edgebench.bench.references import Reference
from edgebench.protocols import ResolvedProtocol
from edgebench.records import RunConfig
from edgebench.targets.base import Target

INPUT_SEED = 1  # every run feeds the same inputs: output checksums are comparable across runs


@dataclass
class Deployment:
    """The harness, runtime and models staged on a target, and where the driver finds them."""

    target: Target
    harness_build_id: str
    runtime_sha256: str
    bin_dir: str  # where the driver finds edgebench_runner and edgebench_sampler
    library: str


@dataclass(frozen=True)
class IdleWindows:
    """Battery runs: the driver idles `idle_s` before and after the workload and marks the windows in
    the device property `window_prop` as "RUN_ID start" / "RUN_ID end N" (the virtual device keeps
    its energy books by them)."""

    idle_s: int
    run_id: str
    window_prop: str


@dataclass(frozen=True)
class Invocation:
    args: tuple[str, ...]  # the runner's (or benchmark_model's) arguments
    env: Mapping[str, str]  # the driver's EDGEBENCH_* variables
    timeout_s: float  # the whole driver call, idle windows included


HASH_CACHE_DIR = ".hash-cache"  # under the target's root: the runner's stat-checked sha256 of staged files


def model_device_path(model: ModelFile) -> str:
    # The device never sees the user's file name: hostile names cannot reach a shell.
    return f"models/{model.sha256[:16]}.tflite"


def runner_args(dep: Deployment, model: ModelFile, config: RunConfig, protocol: ResolvedProtocol,
                profile_ops: bool, reference: Reference | None = None) -> list[str]:
    eff = protocol.effective
    args = ["--model", dep.target.device_path(model_device_path(model)), "--lib", dep.library,
            "--threads", str(config.threads), "--accelerator", config.accelerator,
            "--warmup-runs", str(eff.warmup_runs), "--warmup-seconds", f"{eff.warmup_seconds:g}",
            "--runs", str(eff.runs), "--min-seconds", f"{eff.min_seconds:g}",
            "--max-seconds", f"{eff.max_seconds:g}", "--input-seed", str(INPUT_SEED),
            # runner 1.3.0: the library's and model's sha256 are hashed once per file change, not per run
            "--hash-cache", dep.target.device_path(HASH_CACHE_DIR)]
    if eff.run_delay_ms:
        args += ["--run-delay-ms", f"{eff.run_delay_ms:g}"]
    if reference is not None:  # --check-outputs: compared with the reference on CPU, same seeded inputs
        args.append("--check-outputs")
        if reference.model is not None:
            args += ["--reference-model", dep.target.device_path(model_device_path(reference.model))]
    return args + (["--profile-ops"] if profile_ops else [])


def sample_interval_ms(protocol: ResolvedProtocol) -> int:
    """Latency runs' sampler interval: about 10 samples over the protocol's minimum timed loop, between
    100 ms and 1 s (the cpu_frequency check needs several samples inside the loop; the sampler costs
    one read per node)."""
    return int(min(1000.0, max(100.0, protocol.effective.min_seconds * 1000.0 / 10)))


def build_invocation(dep: Deployment, model: ModelFile, config: RunConfig, protocol: ResolvedProtocol, *,
                     sample_ms: int, timeout_margin_s: float, engine: str = "runner", profile_ops: bool = False,
                     shape_plan: ShapePlan | None = None, idle: IdleWindows | None = None,
                     reference: Reference | None = None) -> Invocation:
    """The driver call of one run. `timeout_margin_s`: seconds beyond the protocol's own bounds for
    library load, init and collection."""
    target = dep.target
    eff = protocol.effective
    env = {"EDGEBENCH_SYSROOT": target.sysroot, "EDGEBENCH_BIN_DIR": dep.bin_dir, "EDGEBENCH_ENGINE": engine,
           "EDGEBENCH_SAMPLE_MS": str(sample_ms)}
    if config.cpu_mask:
        env["EDGEBENCH_CPU_MASK"] = config.cpu_mask
    idle_total_s = 0.0
    if idle is not None:
        env.update({"EDGEBENCH_IDLE_S": str(idle.idle_s), "EDGEBENCH_RUN_ID": idle.run_id,
                    "EDGEBENCH_WINDOW_PROP": idle.window_prop})
        idle_total_s = 2.0 * idle.idle_s
    if engine == "benchmark_model":
        args = bm.benchmark_model_args(target.device_path(model_device_path(model)), config, protocol, profile_ops)
    else:
        args = runner_args(dep, model, config, protocol, profile_ops, reference)
        args += shape_plan.runner_args() if shape_plan is not None else []
    timeout = idle_total_s + eff.warmup_seconds + eff.max_seconds * 1.5 + timeout_margin_s
    return Invocation(tuple(args), env, timeout)


@dataclass(frozen=True)
class PolicySegments:
    """A run under a variant policy (driver 1.3.0): the driver runs `segments` segments, each on the model
    of the row of the flat decision table at `table_path` (a device path) for the state it reads first."""

    table_path: str
    segments: int
    segment_margin_s: float  # per segment, beyond its protocol bounds: library load and init of its model


def policy_invocation(base: Invocation, policy: PolicySegments, protocol: ResolvedProtocol) -> Invocation:
    """`base` (one model's call) as a policy run: no --model (the table names each segment's), the
    table and the segment count in the environment, and a timeout for every segment."""
    if policy.segments < 1:
        raise ValueError(f"a policy run has at least one segment, received {policy.segments}")
    args = list(base.args)
    if "--model" in args:
        at = args.index("--model")
        del args[at:at + 2]
    eff = protocol.effective
    one_segment_s = eff.warmup_seconds + eff.max_seconds * 1.5 + policy.segment_margin_s
    env = {**base.env, "EDGEBENCH_POLICY": policy.table_path, "EDGEBENCH_POLICY_SEGMENTS": str(policy.segments)}
    return Invocation(tuple(args), env, base.timeout_s + (policy.segments - 1) * one_segment_s)

"""The official `benchmark_model` as a second engine: its arguments, and its text output as a record.

It prints no per-run times, so a record from it has count, min, max, mean and std but no
percentiles (None, never a guess); newer builds that print `median=` give the median.
"""
from __future__ import annotations

from typing import Any

from edgebench.bench.checks import telemetry_checks
from edgebench.harness.samples import Telemetry
from edgebench.inspect.benchmark_delegates import AcceleratorFinding, judge
from edgebench.inspect.benchmark_model import BenchmarkModelRun
from edgebench.protocols import ResolvedProtocol
from edgebench.records import Check, LatencyStats, RunConfig

ENGINE = "benchmark_model"


def benchmark_model_args(model_path: str, config: RunConfig, protocol: ResolvedProtocol,
                         profile_ops: bool) -> list[str]:
    eff = protocol.effective
    args = [f"--graph={model_path}", f"--num_threads={config.threads}",
            f"--warmup_runs={eff.warmup_runs}", f"--warmup_min_secs={eff.warmup_seconds:g}",
            f"--num_runs={eff.runs}", f"--min_secs={eff.min_seconds:g}", f"--max_secs={eff.max_seconds:g}",
            "--verbose=true"]
    if eff.run_delay_ms:
        args.append(f"--run_delay={eff.run_delay_ms / 1000:g}")  # benchmark_model takes seconds
    if config.accelerator == "gpu":
        args.append("--use_gpu=true")
    elif config.accelerator == "npu":
        args.append("--use_nnapi=true")
    if profile_ops:
        args.append("--enable_op_profiling=true")
    return args


def latency_from(run: BenchmarkModelRun) -> LatencyStats | None:
    t = run.timed
    if t is None or t.count == 0 or t.min_us is None or t.max_us is None or t.avg_us is None:
        return None
    return LatencyStats(count=t.count, min_us=t.min_us, p10_us=None, median_us=t.median_us, p90_us=None,
                        p99_us=None, max_us=t.max_us, mean_us=t.avg_us, std_us=t.std_us)


def checks_for(run: BenchmarkModelRun, protocol: ResolvedProtocol, config: RunConfig,
               telemetry: Telemetry) -> tuple[Check, ...]:
    eff = protocol.effective
    t = run.timed
    count = t.count if t else 0
    seconds = count * (t.avg_us or 0.0) / 1e6 if t else 0.0
    checks = [Check("schema", "pass"),
              Check("timed_runs", "pass" if count >= eff.runs else "fail",
                    None if count >= eff.runs else f"{count} timed runs < {eff.runs} required"),
              Check("timed_seconds", "pass" if seconds >= eff.min_seconds * 0.99 else "fail",
                    None if seconds >= eff.min_seconds * 0.99 else
                    f"about {seconds:.2f} s timed (count × mean) < {eff.min_seconds:g} s required")]
    warm = run.warmup.count if run.warmup else 0
    checks.append(Check("warmup", "pass" if warm >= eff.warmup_runs else "fail",
                        None if warm >= eff.warmup_runs else f"{warm} warm-up runs < {eff.warmup_runs}"))
    checks.append(Check("shortened", "fail" if protocol.shortened else "pass",
                        "; ".join(protocol.shortened) + " (allowed; no comparison verdicts on this run)"
                        if protocol.shortened else None, advisory=True))
    checks.extend(accelerator_checks(finding_for(run, config)))
    checks.extend(telemetry_checks(telemetry))
    return tuple(checks)


def finding_for(run: BenchmarkModelRun, config: RunConfig) -> AcceleratorFinding:
    """What ran, judged against the configuration's accelerator (not what the log's flags asked)."""
    return judge(config.accelerator, run.delegations, run.delegate_verdicts)


def accelerator_checks(f: AcceleratorFinding) -> list[Check]:
    if f.used is None:
        accelerator = Check("accelerator", "not_checked", f.note)
    elif f.used == f.requested:
        accelerator = Check("accelerator", "pass")
    else:
        accelerator = Check("accelerator", "fail", f"{f.requested} requested, ran on {f.used}: {f.note}")
    if f.requested == "cpu":
        fully = Check("fully_accelerated", "not_checked", "cpu run: no delegate to check")
    elif f.fully_accelerated is None:
        fully = Check("fully_accelerated", "not_checked", f.note)
    else:
        fully = Check("fully_accelerated", "pass" if f.fully_accelerated else "fail",
                      None if f.fully_accelerated else f.note)
    return [accelerator, fully]


def failure_reason(run: BenchmarkModelRun, exit_code: int) -> str | None:
    """Why the run failed, or None when it produced its numbers."""
    if run.failed or exit_code != 0:
        return run.failure_reason or f"benchmark_model exited {exit_code}"
    if not run.has_run_summary:
        return ("benchmark_model printed no result line ('Inference timings in us: ...'); "
                f"{run.loops_note or 'its output holds no run timings'}")
    return None


def record_fields(run: BenchmarkModelRun, config: RunConfig) -> dict[str, Any]:
    memory_mb = run.peak_memory_mb
    finding = finding_for(run, config)
    return dict(accelerator_used=finding.used,
                fallback_reason=finding.note if finding.used not in (None, config.accelerator) else None,
                init_ms=run.init_us / 1000 if run.init_us is not None else None,
                first_inference_us=run.first_inference_us,
                peak_rss_kb=int(memory_mb * 1024) if memory_mb is not None and run.memory_metric == "peak_memory_footprint" else None,
                engine=ENGINE)

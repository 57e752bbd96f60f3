"""Parse the text output of TFLite/LiteRT's official `benchmark_model` tool.

Three generations of the result line are read (see fixtures/real-device/a_benchmark_model):

* TF 1.13-1.14: `Average inference timings in us: Warmup: W, Init: I, no stats: N`
  (later 1.x / the Android app: `..., Inference: N`, sometimes followed by `Overall max resident
  set size = X MB, ...`; full TensorFlow's tool adds `with stats: S`). No first-inference figure:
  it is taken from the warm-up statistics line's `first=`, which is what newer tools print.
* TF 2.x (2020+): `Inference timings in us: Init: I, First inference: F, Warmup (avg): W,
  Inference (avg): N` and `Peak memory footprint (MB): init=A overall=B`.
* Newest TF/LiteRT: the same result line, every line prefixed `INFO:`/`WARNING:`/`ERROR:`/`VERBOSE:`,
  and `Memory footprint delta from the start of the tool (MB): init=A overall=B` (the figure is
  a delta, not a peak: `memory_metric` keeps which wording it was), optionally `Overall peak
  memory footprint (MB) via periodic monitoring: P`.

Logcat (`I/tflite ( 123): `, threadtime) and glog prefixes are stripped, CRLF and trailing blanks
are ignored. Lines the tool is known to print are read or recognised; any other line (vendor
driver chatter, shell noise) is kept verbatim in `unrecognized_lines`, never dropped unseen. A
line that looks like a timing or memory figure but does not parse raises ParseError, and so does
text with neither a result line nor a failure message (e.g. a capture cut short). No figure ever
defaults to 0: absent is None.

Fragments are read for what they hold: statistics lines are told warm-up or timed by evidence
(benchmark_loops), op-profiling tables without a result line give a record with
`has_run_summary=False`, and what ran on which hardware comes from the delegate lines
(benchmark_delegates), never from the flags that asked for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.inspect.benchmark_delegates import (Delegation, DelegateVerdict, hardware_of, judge,
                                                   requested_hardware)
from edgebench.inspect.benchmark_lines import LineReader, RunPlan
from edgebench.inspect.benchmark_loops import Loop, assign_roles
from edgebench.inspect.benchmark_profile import ProfileSection
from edgebench.inspect.benchmark_stats import RunStats


@dataclass(frozen=True)
class BenchmarkModelRun:
    has_run_summary: bool  # False for a fragment such as op-profiling tables alone
    summary_format: str | None  # "inference_timings" (TF 2.x+) | "average_inference_timings" (1.x)
    init_us: float | None
    first_inference_us: float | None
    warmup_avg_us: float | None
    inference_avg_us: float | None
    inference_with_stats_avg_us: float | None  # full TensorFlow's tool only
    inference_count: int | None
    warmup_count: int | None
    # "peak_memory_footprint" | "footprint_delta_from_start" | "max_resident_set_size"
    memory_metric: str | None
    init_memory_mb: float | None
    peak_memory_mb: float | None  # the "overall=" figure of `memory_metric`
    periodic_peak_memory_mb: float | None
    end_vm_rss_mb: float | None
    failed: bool
    failure_reason: str | None
    tensorflow_version: str | None
    threads: int | None
    graph_path: str | None
    model_size_mb: float | None
    session_init_ms: float | None
    requested_delegates: tuple[str, ...]  # from "Use nnapi: [1]"-style parameters
    nnapi_accelerator: str | None
    delegations: tuple[Delegation, ...]  # every "Replacing ... with delegate (NAME)" line, in order
    delegate_verdicts: tuple[DelegateVerdict, ...]  # "Explicitly applied X delegate, ..." lines
    # What ran, from the delegate lines (see benchmark_delegates): cpu | gpu | npu, None = not said.
    accelerator_requested: str | None
    accelerator_used: str | None
    fully_accelerated: bool | None  # counts only the requested accelerator's delegate
    nodes_accelerated: int | None  # nodes the requested accelerator's delegate took
    nodes_total: int | None
    accelerator_note: str | None
    warmup_plan: RunPlan | None
    timed_plan: RunPlan | None
    warmup: RunStats | None
    timed: RunStats | None
    unassigned_stats: tuple[RunStats, ...]  # statistics lines whose loop cannot be told
    loops_note: str | None  # how the statistics lines were told apart, or why not
    op_profiles: tuple[ProfileSection, ...]
    params: dict[str, str]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    unrecognized_lines: tuple[str, ...]  # "line N: text"

    def op_profile(self) -> ProfileSection | None:
        """The primary graph's profile of the regular (timed) runs, when op profiling was on."""
        for kind in ("regular_runs", "unlabelled"):
            for section in self.op_profiles:
                if section.kind == kind and section.graph == "primary":
                    return section
        return None


def parse_benchmark_model(text: str, source: str | None = None) -> BenchmarkModelRun:
    """Parse one benchmark_model run's output (stdout + stderr, in any of the known formats)."""
    reader = LineReader(source)
    for n, line in enumerate(text.splitlines(), 1):
        reader.feed(n, line)
    return _build(reader, source)


def _build(r: LineReader, source: str | None) -> BenchmarkModelRun:
    failed = r.benchmarking_failed or (r.summary is None and bool(r.failure_evidence))
    profiles = r.profile.sections()
    if r.summary is None and not failed and not profiles:
        if not r.recognized_lines:
            raise ParseError("this is not benchmark_model output: none of its lines ('STARTING!', "
                             "'Graph: [...]', 'Inference timings in us: ...') was found; pick the "
                             "format with --as", source=source)
        raise ParseError(
            "benchmark_model output without a result: expected an 'Inference timings in us: ...' or "
            "'Average inference timings in us: ...' line, or a failure such as 'Benchmarking "
            f"failed.', but the text ends at line {r.last_line} ({r.progress()}). The capture was "
            "probably cut short: run the benchmark again and capture its whole output.",
            source=source)
    s = r.summary or {}
    roles = assign_roles([Loop(plan, stats, n) for plan, stats, n in r.loops],
                         starts_at_setup=r.starts_at_setup, warmup_avg_us=s.get("warmup_avg_us"),
                         inference_avg_us=s.get("inference_avg_us"),
                         with_stats_avg_us=s.get("inference_with_stats_avg_us"), source=source)
    warmup = roles.warmup.stats if roles.warmup else None
    timed = roles.timed.stats if roles.timed else None
    first = s.get("first_inference_us")
    if first is None and warmup is not None and r.summary is not None:
        first = warmup.first_us  # old formats: the same quantity, printed on the warm-up line
    params = r.params
    nnapi = _param(params, "NNAPI accelerator name") or None
    delegations = tuple(Delegation(name, hardware_of(name, nnapi), d, t, p)
                        for name, d, t, p in r.delegations)
    verdicts = tuple(DelegateVerdict(provider, hardware_of(provider, nnapi), executes)
                     for provider, executes in r.verdicts)
    requested, why_unknown = requested_hardware(params, verdicts, nnapi)
    finding = judge(requested, delegations, verdicts) if requested else None
    threads = _int_param(params, ("Num threads", "#threads used for CPU inference"), source)
    return BenchmarkModelRun(
        has_run_summary=r.summary is not None, summary_format=r.summary_format,
        init_us=s.get("init_us"), first_inference_us=first,
        warmup_avg_us=s.get("warmup_avg_us"), inference_avg_us=s.get("inference_avg_us"),
        inference_with_stats_avg_us=s.get("inference_with_stats_avg_us"),
        inference_count=timed.count if timed else None,
        warmup_count=warmup.count if warmup else None,
        memory_metric=r.memory_metric, init_memory_mb=r.init_memory_mb,
        peak_memory_mb=r.peak_memory_mb, periodic_peak_memory_mb=r.periodic_peak_memory_mb,
        end_vm_rss_mb=r.end_vm_rss_mb,
        failed=failed, failure_reason=r.failure_reason() if failed else None,
        tensorflow_version=r.tensorflow_version, threads=threads,
        graph_path=_param(params, "Graph"), model_size_mb=r.model_size_mb,
        session_init_ms=r.session_init_ms,
        requested_delegates=tuple(
            m.group(1).lower() for k, v in params.items()
            if (m := re.fullmatch(r"Use (\w+)", k, re.IGNORECASE)) and v.lower() in ("1", "true")),
        nnapi_accelerator=nnapi, delegations=delegations, delegate_verdicts=verdicts,
        accelerator_requested=requested,
        accelerator_used=finding.used if finding else None,
        fully_accelerated=finding.fully_accelerated if finding else None,
        nodes_accelerated=finding.nodes_accelerated if finding else None,
        nodes_total=delegations[0].nodes_total if delegations else None,
        accelerator_note=finding.note if finding else why_unknown,
        warmup_plan=roles.warmup.plan if roles.warmup else None,
        timed_plan=roles.timed.plan if roles.timed else None, warmup=warmup, timed=timed,
        unassigned_stats=roles.unassigned,
        loops_note=_loops_note(roles.note, r.summary is not None, bool(profiles)),
        op_profiles=profiles, params=dict(params), warnings=tuple(r.warnings),
        errors=tuple(r.errors), unrecognized_lines=tuple(r.unrecognized))


def _loops_note(note: str | None, has_summary: bool, has_profiles: bool) -> str | None:
    if not has_summary and has_profiles:
        lead = ("no run summary in this text: it holds op-profiling tables without the result line "
                "('Inference timings in us: ...'), so there are no run timings")
        return f"{lead}; {note}" if note else lead
    return note


def _param(params: dict[str, str], key: str) -> str | None:
    for k, v in params.items():
        if k.lower() == key.lower():
            return v
    return None


def _int_param(params: dict[str, str], keys: tuple[str, ...], source: str | None) -> int | None:
    for key in keys:
        value = _param(params, key)
        if value is None:
            continue
        if not re.fullmatch(r"-?\d+", value.strip()):
            raise ParseError(f"parameter {key!r} is {value!r}, expected a whole number",
                             source=source)
        return int(value)
    return None


def sniff(text: str, file_name: str = "") -> int:
    """How sure we are that `text` is benchmark_model output (0..100)."""
    head = text[:200_000]
    if "Inference timings in us:" in head or "Average inference timings in us:" in head:
        return 100
    if "Benchmarking failed." in head and ("STARTING!" in head or "Loaded model" in head
                                           or "Graph: [" in head):
        return 95
    if "Running benchmark for" in head and "count=" in head:
        return 85
    if "STARTING!" in head and "Graph: [" in head:
        return 80
    if "Operator-wise Profiling Info for Regular Benchmark Runs" in head:
        return 80
    if _PROFILE_TABLE.search(head):  # op-profiling tables pasted on their own
        return 70
    return 0


_PROFILE_TABLE = re.compile(r"^[^\n]*=+ (?:Run Order|Top by Computation Time|Top by Memory Use|Summary by "
                            r"node type) =+\s*\r?\n[^\n]*\[?node type\]?", re.IGNORECASE | re.MULTILINE)

"""Line-by-line reading of benchmark_model output into raw facts (see benchmark_model.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from edgebench.errors import ParseError
from edgebench.inspect.benchmark_profile import ProfileCollector
from edgebench.inspect.benchmark_stats import NUMBER, RunStats, number, parse_stat_fields, run_stats

N = rf"({NUMBER})"


@dataclass(frozen=True)
class RunPlan:
    """`Running benchmark for at least N iterations and at least S seconds but terminate if
    exceeding M seconds.`"""

    min_iterations: int | None
    min_seconds: float | None
    max_seconds: float | None


# Log prefixes, outermost first; the captured group is the severity.
_TIME = r"\d\d:\d\d:\d\d\.\d+"
_PREFIXES = [
    re.compile(rf"\d{{4}}-\d\d-\d\d {_TIME}: ([IWEF]) \S+:\d+\] "),  # TensorFlow C++ log
    re.compile(rf"([IWEF])\d{{4}} {_TIME}\s+\d+ \S+:\d+\] "),  # glog
    re.compile(rf"\d\d-\d\d\s+{_TIME}\s+\d+\s+\d+\s+([VDIWEF])\s+[^:]*?\s*: ?"),  # logcat threadtime
    re.compile(rf"(?:\d\d-\d\d\s+{_TIME}\s+)?([VDIWEF])/[^(:]*\(\s*\d+\)\s*: ?"),  # logcat brief
    re.compile(r"(INFO|WARNING|WARN|ERROR|VERBOSE|DEBUG|FATAL): ?"),  # TFLITE_LOG
]
_SEVERITY = {"E": "error", "F": "error", "ERROR": "error", "FATAL": "error",
             "W": "warning", "WARNING": "warning", "WARN": "warning"}

_SUMMARY_KEYS = {
    "inference_timings": {"Init": "init_us", "First inference": "first_inference_us",
                          "Warmup (avg)": "warmup_avg_us", "Inference (avg)": "inference_avg_us"},
    "average_inference_timings": {"Warmup": "warmup_avg_us", "Init": "init_us",
                                  "no stats": "inference_avg_us", "Inference": "inference_avg_us",
                                  "with stats": "inference_with_stats_avg_us"},
}
_MEMORY = {
    "peak_memory_footprint": re.compile(rf"Peak memory footprint \(MB\): init={N} overall={N}"),
    "footprint_delta_from_start": re.compile(
        rf"Memory footprint delta from the start of the tool \(MB\): init={N} overall={N}"),
}
_RSS = re.compile(rf"max resident set size = {N} MB, total malloc-ed size = {N} MB"
                  rf"(?:, in-use allocated/mmapped size = {N} MB)?")
_PARAM = re.compile(r"([^:\[\]=]{1,80}?)\s*:\s*\[(.*)\]")
_REPLACING = re.compile(r"Replacing (\d+) (?:out of (\d+) )?node\(s\) with delegate \(([^)]*)\) "
                        r"node, yielding (\d+) partitions?.*")
_APPLIED = re.compile(r"Explicitly applied (\S+) delegate, and the model graph will be "
                      r"(completely|partially) executed by the delegate.*")
_NOT_APPLIED = re.compile(r"Though (\S+) delegate is explicitly applied, the model graph will "
                          r"not be executed by the delegate.*")
# Lines that look like a figure; if one reaches the end unread, it is a ParseError.
_FIGURE_LIKE = re.compile(r"\b(?:count|first|curr|avg|std|overall)=|timings in us|\((?:avg|MB)\)"
                          r"|footprint|Initialized session in|no stats:", re.IGNORECASE)
# Chatter printed while the tool sets up, before its first loop; then chatter printed at the end.
_SETUP_NOISE = [re.compile(p) for p in (
    r"STARTING!", r"Loaded model .*", r"resolved reporter", r"Initialized TensorFlow Lite runtime\.?",
    r"Created TensorFlow Lite (?:XNNPACK )?delegate for \S+\.?", r"\S+ delegate created\.?",
    r"Going to apply \d+ delegates one after another\.?", r"Loaded OpenCL library with dlopen\.?",
    r"Initialized OpenCL-based API\.?", r"Created \d+ GPU delegate kernels\.?",
    r"Use default NNAPI accelerator\.?",
)]
_END_NOISE = [re.compile(p) for p in (
    r"Note: as the benchmark tool itself .*", r"Memory status at the end of exe\w*:?",
)]
_WARNING_MESSAGES = [re.compile(p, re.IGNORECASE) for p in (
    r"nnapi error: .*", r"Failed to get the input model file size\.?",
)]
# Without a result line, these say the run failed rather than the capture being cut short.
_FAILURE = re.compile(r"Failed to .*|.*(?:Segmentation fault|Aborted|Killed|Bus error|Illegal "
                      r"instruction|CANNOT LINK EXECUTABLE|Permission denied|: not found|"
                      r"terminate called).*", re.IGNORECASE)


class LineReader:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.profile = ProfileCollector(source)
        self.summary: dict[str, float | None] | None = None
        self.summary_format: str | None = None
        self.memory_metric: str | None = None
        self.init_memory_mb: float | None = None
        self.peak_memory_mb: float | None = None
        self.periodic_peak_memory_mb: float | None = None
        self.end_vm_rss_mb: float | None = None
        self.model_size_mb: float | None = None
        self.session_init_ms: float | None = None
        self.tensorflow_version: str | None = None
        self.params: dict[str, str] = {}
        self.delegations: list[tuple[str, int, int | None, int | None]] = []  # name, D, T, P
        self.verdicts: list[tuple[str, str]] = []  # provider, completely | partially | not
        self.loops: list[list[Any]] = []  # [RunPlan | None, RunStats | None, line number] per loop
        self.starts_at_setup = False  # the run's set-up lines precede its first loop
        self._setup_seen = False
        self.benchmarking_failed = False
        self.failure_evidence: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.unrecognized: list[str] = []
        self.recognized_lines = 0
        self.last_line = 0
        self._starts = 0
        self._handlers: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"Inference timings in us: (.*)"), self._summary_new),
            (re.compile(r"Average inference timings in us: (.*)"), self._summary_old),
            (_MEMORY["peak_memory_footprint"], self._memory("peak_memory_footprint")),
            (_MEMORY["footprint_delta_from_start"], self._memory("footprint_delta_from_start")),
            (re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: {N}"),
             lambda m, n, l: setattr(self, "periodic_peak_memory_mb", self._num(m, 1, n, l))),
            (re.compile(rf"- VmRSS\s*: {N} MB"),
             lambda m, n, l: setattr(self, "end_vm_rss_mb", self._num(m, 1, n, l))),
            (re.compile(rf"\+ (?:RssAnnon|RssFile \+ RssShmem)\s*: {N} MB"), lambda m, n, l: None),
            (re.compile(r"count=.*"), self._stats),
            (re.compile(r"Running benchmark for .*"), self._loop),
            (re.compile(rf"Initialized session in {N}\s*ms\.?"),
             lambda m, n, l: setattr(self, "session_init_ms", self._num(m, 1, n, l))),
            (re.compile(rf"The input model file size \(MB\): {N}"),
             lambda m, n, l: setattr(self, "model_size_mb", self._num(m, 1, n, l))),
            (re.compile(r"Tensorflow Version\s*:\s*(\S+)", re.IGNORECASE),
             lambda m, n, l: setattr(self, "tensorflow_version", m.group(1))),
            (_REPLACING, self._replacing),
            (_APPLIED, lambda m, n, l: self.verdicts.append((m.group(1), m.group(2)))),
            (_NOT_APPLIED, lambda m, n, l: self.verdicts.append((m.group(1), "not"))),
            (re.compile(r"Benchmarking failed\.?"), self._failed),
            (_PARAM, self._param),
        ]
        # Lines the tool prints while setting up: seen before the first loop, the text starts at
        # the run's beginning, so its first loop is the warm-up.
        self._setup_lines = {rx for rx, _ in self._handlers
                             if rx.pattern.startswith(("Initialized session", "The input model", "Tensorflow"))}
        self._setup_lines |= {_REPLACING, _APPLIED, _NOT_APPLIED, _PARAM}

    # -- helpers ---------------------------------------------------------------------------
    def _error(self, why: str, n: int, line: str) -> ParseError:
        return ParseError(why, source=self.source, line_number=n, line=line)

    def _num(self, m: re.Match[str], group: int, n: int, line: str) -> float | None:
        try:
            return number(m.group(group))
        except ValueError as exc:
            raise self._error(f"{exc} in a benchmark_model figure", n, line) from None

    def progress(self) -> str:
        if self.timed_stats_seen():
            return "after the timed-run statistics"
        if self.loops:
            return "during the warm-up or timed loop"
        if self.session_init_ms is not None:
            return "after initialising the session"
        return "before any benchmark loop ran"

    def timed_stats_seen(self) -> bool:
        return len(self.loops) > 1 and self.loops[1][1] is not None

    def _new_loop(self, plan: RunPlan | None, stats: RunStats | None, n: int, line: str) -> None:
        if not self.loops:
            self.starts_at_setup = self._setup_seen
        self.loops.append([plan, stats, n])
        if len(self.loops) > 2:
            raise self._error("a third benchmark loop: benchmark_model runs a warm-up and a timed "
                              "loop; the text holds more than one run", n, line)

    def failure_reason(self) -> str:
        failed_to = [e for e in self.failure_evidence if e.lower().startswith("failed to")]
        main = failed_to[-1] if failed_to else (self.failure_evidence[-1] if self.failure_evidence
                                                 else "Benchmarking failed.")
        cause = next((e for e in self.errors if e not in (main, "Benchmarking failed.")), None)
        return f"{main} (first error: {cause})" if cause else main

    # -- the line loop ---------------------------------------------------------------------
    def feed(self, n: int, line: str) -> None:
        self.last_line = n
        raw, severity = line.rstrip(), None
        for _ in range(3):  # logcat prefix, then TFLITE_LOG's own, at most
            for rx in _PREFIXES:
                m = rx.match(raw)
                if m:
                    severity = severity or _SEVERITY.get(m.group(1))
                    raw = raw[m.end():]
                    break
            else:
                break
        text = raw.strip()
        if self.profile.feed(text, raw, n):
            self.recognized_lines += 1
            return
        if not text:
            return
        if severity == "error":
            self.errors.append(text)
        elif severity == "warning":
            self.warnings.append(text)
        for rx, handle in self._handlers:
            m = rx.fullmatch(text)
            if m:
                handle(m, n, raw)
                self.recognized_lines += 1
                self._setup_seen = self._setup_seen or rx in self._setup_lines
                return
        if text == "STARTING!":
            self._starts += 1
            if self._starts > 1 or self.summary is not None:
                raise self._error("a second benchmark run starts here: the text holds more than one "
                                  "run; split it into one file per run", n, raw)
        if any(rx.fullmatch(text) for rx in _SETUP_NOISE):
            self.recognized_lines += 1
            self._setup_seen = True
            return
        if any(rx.fullmatch(text) for rx in _END_NOISE):
            self.recognized_lines += 1
            return
        if any(rx.fullmatch(text) for rx in _WARNING_MESSAGES):
            if severity is None:
                self.warnings.append(text)
            self.recognized_lines += 1
            return
        if _FIGURE_LIKE.search(text):
            raise self._error("this looks like a benchmark_model timing or memory line but does not "
                              "have any known form", n, raw)
        if _FAILURE.fullmatch(text):
            self.failure_evidence.append(text)
            self.recognized_lines += 1
            return
        if severity == "error":
            self.failure_evidence.append(text)
        if severity is None:  # warnings and errors are already kept in their own lists
            self.unrecognized.append(f"line {n}: {text}")

    # -- handlers ---------------------------------------------------------------------------
    def _summary(self, kind: str, body: str, n: int, line: str) -> None:
        if self.summary is not None:
            raise self._error("a second result line: the text holds more than one benchmark run; "
                              "split it into one file per run", n, line)
        keys = _SUMMARY_KEYS[kind]
        values: dict[str, float | None] = {}
        for item in re.split(r",\s*", body.strip().rstrip(",").strip()):
            m = re.fullmatch(rf"([A-Za-z][A-Za-z ()]*?)\s*:\s*{N}", item.strip())
            if not m or m.group(1) not in keys:
                raise self._error(f"cannot read {item.strip()!r} in the result line; expected "
                                  f"'{', '.join(k + ': <number>' for k in keys)}'", n, line)
            field = keys[m.group(1)]
            if field in values:
                raise self._error(f"{m.group(1)!r} appears twice in the result line", n, line)
            values[field] = self._num(m, 2, n, line)
        needed = (set(keys.values()) - {"inference_with_stats_avg_us"} if kind == "inference_timings"
                  else {"warmup_avg_us", "inference_avg_us"})
        if not needed <= values.keys():
            missing = ", ".join(k for k, v in keys.items() if v in needed - values.keys())
            raise self._error(f"the result line is incomplete (missing {missing})", n, line)
        self.summary, self.summary_format = values, kind

    def _summary_new(self, m: re.Match[str], n: int, line: str) -> None:
        self._summary("inference_timings", m.group(1), n, line)

    def _summary_old(self, m: re.Match[str], n: int, line: str) -> None:
        body, _, overall = m.group(1).partition("Overall ")  # Android app appends memory unspaced
        self._summary("average_inference_timings", body, n, line)
        if overall:
            rss = _RSS.fullmatch(overall.strip())
            if not rss:
                raise self._error("cannot read the memory figures after 'Overall'", n, line)
            self._set_memory("max_resident_set_size", None, self._num(rss, 1, n, line), n, line)

    def _memory(self, metric: str) -> Callable[..., Any]:
        def handle(m: re.Match[str], n: int, line: str) -> None:
            self._set_memory(metric, self._num(m, 1, n, line), self._num(m, 2, n, line), n, line)
        return handle

    def _set_memory(self, metric: str, init: float | None, overall: float | None, n: int,
                    line: str) -> None:
        if self.memory_metric is not None:
            raise self._error("a second memory footprint line: the text holds more than one run",
                              n, line)
        self.memory_metric, self.init_memory_mb, self.peak_memory_mb = metric, init, overall

    def _stats(self, m: re.Match[str], n: int, line: str) -> None:
        stats = run_stats(parse_stat_fields(m.group(0), source=self.source, line_number=n, line=line))
        open_loops = [loop for loop in self.loops if loop[1] is None]
        if open_loops:
            open_loops[0][1], open_loops[0][2] = stats, n
        else:
            self._new_loop(None, stats, n, line)

    def _loop(self, m: re.Match[str], n: int, line: str) -> None:
        text = m.group(0)
        iters = re.search(r"(\d+) iterations", text)
        lo = re.search(rf"at least {N} seconds", text)
        hi = re.search(rf"exceeding {N} seconds", text)
        if iters is None:
            raise self._error("cannot read the iteration count of this benchmark loop", n, line)
        self._new_loop(RunPlan(int(iters.group(1)), self._num(lo, 1, n, line) if lo else None,
                               self._num(hi, 1, n, line) if hi else None), None, n, line)

    def _replacing(self, m: re.Match[str], n: int, line: str) -> None:
        self.delegations.append((m.group(3), int(m.group(1)),
                                 int(m.group(2)) if m.group(2) else None, int(m.group(4))))

    def _failed(self, m: re.Match[str], n: int, line: str) -> None:
        self.benchmarking_failed = True

    def _param(self, m: re.Match[str], n: int, line: str) -> None:
        self.params[m.group(1).strip()] = m.group(2).strip()

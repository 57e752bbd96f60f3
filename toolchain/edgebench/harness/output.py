"""Read and validate the runner's JSON-lines output (android_harness/PROTOCOL.md, schema 1).

Validation happens on pull, before anything is stored: a line of an unknown type, a missing field,
a wrong type or an impossible order is a ParseError naming the line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from edgebench.errors import ParseError

SCHEMA_VERSION = 1

# type -> required fields and their JSON types. Extra fields are allowed (forward compatible within v1).
_NUM = (int, float)
_REQUIRED: dict[str, dict[str, Any]] = {
    "start": {"runner_version": str, "boottime_ns": int},
    "runtime": {"library_path": str, "library_sha256": str, "api_generation": str},
    "setup": {"inputs": list, "outputs": list, "threads": int, "accelerator_requested": str,
              "accelerator_used": str},
    "init": {"stages_us": dict, "total_us": _NUM},
    "warmup": {"index": int, "latency_us": _NUM, "start_ns": int},
    "run": {"index": int, "latency_us": _NUM, "start_ns": int},
    # null when an output buffer could not be mapped (device memory): allowed, nothing to compare.
    "output": {"checksum": (str, type(None))},
    # Statistics are null when nothing was timed (count 0): absent, never zero.
    "summary": {"count": int, "min_us": (int, float, type(None)), "median_us": (int, float, type(None)),
                "max_us": (int, float, type(None))},
    "profile": {"ops": list},
    "resources": {"peak_rss_kb": (int, type(None)), "threads_observed": (int, type(None))},
    "error": {"stage": str, "code": str, "message": str},
    # --check-outputs (runner 1.2.0+): the on-device comparison with a reference; figures per output.
    "output_agreement": {"status": str, "outputs": list},
    "end": {"status": str, "exit_code": int},
}


@dataclass(frozen=True)
class TimedSample:
    index: int
    latency_us: float
    start_ns: int


@dataclass(frozen=True)
class RunnerError:
    stage: str
    code: str
    message: str


@dataclass(frozen=True)
class HarnessOutput:
    """Everything one runner invocation reported."""

    runner_version: str | None
    library_path: str | None
    library_sha256: str | None
    api_generation: str | None
    setup: Mapping[str, Any] | None
    init_total_us: float | None
    init_stages_us: Mapping[str, float] | None
    warmup: tuple[TimedSample, ...]
    timed: tuple[TimedSample, ...]
    output_checksum: str | None  # None: no output line, or the runner could not map an output
    runner_summary: Mapping[str, Any] | None
    profile: Mapping[str, Any] | None
    peak_rss_kb: int | None
    threads_observed: int | None
    error: RunnerError | None
    end_status: str | None
    exit_code: int | None
    # CPUs the runner may run on (start.cpu_affinity) and those its working threads were seen on
    # (resources.cpus_seen, runner 1.x+); None when not reported.
    cpu_affinity: tuple[int, ...] | None = None
    cpus_seen: tuple[int, ...] | None = None
    output_agreement: Mapping[str, Any] | None = None  # the output_agreement line, when --check-outputs ran

    @property
    def ok(self) -> bool:
        return self.error is None and self.end_status == "ok"

    @property
    def failure_reason(self) -> str | None:
        """Why the runner failed, as one line for a record; None when it succeeded."""
        if self.ok:
            return None
        if self.error is not None:
            return f"{self.error.code} at {self.error.stage}: {self.error.message}"
        return f"runner ended with status {self.end_status}"

    @property
    def first_inference_us(self) -> float | None:
        first = self.warmup[0] if self.warmup else (self.timed[0] if self.timed else None)
        return first.latency_us if first else None

    @property
    def model_sha256(self) -> str | None:
        """The sha256 of the model file as the runner read it on the device (None: not reported)."""
        value = self.setup.get("model_sha256") if self.setup else None
        return value if isinstance(value, str) else None

    @property
    def input_seed(self) -> int | None:
        """The seed of the runner's generated inputs; None when inputs came from files or were not reported."""
        if not self.setup or self.setup.get("input_source") != "seeded":
            return None
        seed = self.setup.get("input_seed")
        return seed if isinstance(seed, int) and not isinstance(seed, bool) else None

    @property
    def accelerator_used(self) -> str | None:
        return self.setup.get("accelerator_used") if self.setup else None

    @property
    def fallback_reason(self) -> str | None:
        return self.setup.get("fallback_reason") if self.setup else None


def parse_harness_output(text: str, *, source: str = "runner.jsonl") -> HarnessOutput:
    """Parse and validate runner output. Raises ParseError on anything outside the contract."""
    if not text.strip():
        raise ParseError("runner output is empty: the runner did not start or was killed before writing",
                         source=source)
    seen: dict[str, dict[str, Any]] = {}
    warmup: list[TimedSample] = []
    timed: list[TimedSample] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not a JSON line ({exc.msg})", source=source, line_number=number, line=line) from None
        if not isinstance(obj, dict):
            raise ParseError("expected a JSON object", source=source, line_number=number, line=line)
        if obj.get("schema") != SCHEMA_VERSION:
            raise ParseError(f"schema {obj.get('schema')!r}, expected {SCHEMA_VERSION}: runner and host "
                             "versions differ; rebuild the harness (edgebench harness build)",
                             source=source, line_number=number, line=line)
        kind = obj.get("type")
        if kind not in _REQUIRED:
            raise ParseError(f"unknown line type {kind!r}", source=source, line_number=number, line=line)
        for name, types in _REQUIRED[kind].items():
            if name not in obj:
                raise ParseError(f"{kind} line lacks field {name!r}", source=source, line_number=number, line=line)
            value = obj[name]
            # bool is an int subclass in Python; no field here is a bool.
            if isinstance(value, bool) or not isinstance(value, types):
                raise ParseError(f"{kind}.{name} has the wrong type ({type(value).__name__})",
                                 source=source, line_number=number, line=line)
        if kind in ("warmup", "run"):
            bucket = warmup if kind == "warmup" else timed
            if obj["index"] != len(bucket):
                raise ParseError(f"{kind} index {obj['index']} out of order (expected {len(bucket)})",
                                 source=source, line_number=number, line=line)
            if obj["latency_us"] < 0:
                raise ParseError("negative latency", source=source, line_number=number, line=line)
            bucket.append(TimedSample(obj["index"], float(obj["latency_us"]), obj["start_ns"]))
            continue
        if kind in seen:
            raise ParseError(f"second {kind} line", source=source, line_number=number, line=line)
        seen[kind] = obj

    if "start" not in seen:
        raise ParseError("no start line: not runner output", source=source)
    if "end" not in seen:
        raise ParseError("no end line: the runner was killed or crashed before finishing", source=source)
    summary = seen.get("summary")
    if summary is not None and summary["count"] != len(timed):
        raise ParseError(f"summary count {summary['count']} but {len(timed)} run lines", source=source)
    err = seen.get("error")
    end = seen["end"]
    if end["status"] == "ok" and (err is not None or summary is None):
        raise ParseError("end says ok but the output has an error line or no summary", source=source)
    runtime = seen.get("runtime", {})
    init = seen.get("init")
    resources = seen.get("resources", {})
    return HarnessOutput(
        runner_version=seen["start"]["runner_version"],
        library_path=runtime.get("library_path"), library_sha256=runtime.get("library_sha256"),
        api_generation=runtime.get("api_generation"), setup=seen.get("setup"),
        init_total_us=float(init["total_us"]) if init else None,
        init_stages_us=init["stages_us"] if init else None,
        warmup=tuple(warmup), timed=tuple(timed),
        output_checksum=seen["output"]["checksum"] if "output" in seen else None,
        runner_summary=summary, profile=seen.get("profile"),
        peak_rss_kb=resources.get("peak_rss_kb"), threads_observed=resources.get("threads_observed"),
        error=RunnerError(err["stage"], err["code"], err["message"]) if err else None,
        end_status=end["status"], exit_code=end["exit_code"],
        cpu_affinity=_cpu_list(seen["start"], "cpu_affinity", source),
        cpus_seen=_cpu_list(resources, "cpus_seen", source),
        output_agreement=_agreement(seen.get("output_agreement"), source),
    )


def _agreement(line: Mapping[str, Any] | None, source: str) -> Mapping[str, Any] | None:
    """The output_agreement line, its status and per-output figures checked (numbers or null)."""
    if line is None:
        return None
    if line["status"] not in ("checked", "not_checked"):
        raise ParseError(f"output_agreement.status {line['status']!r}: expected checked or not_checked", source=source)
    if line["status"] == "not_checked" and not isinstance(line.get("reason"), str):
        raise ParseError("output_agreement is not_checked without a reason", source=source)
    numbers = ("cosine", "max_abs_diff", "l2_norm", "reference_l2_norm")
    counts = ("elements", "nan_count", "inf_count", "reference_nan_count", "reference_inf_count")
    for out in line["outputs"]:
        if not isinstance(out, dict):
            raise ParseError("output_agreement.outputs holds a non-object", source=source)
        for name in counts:
            if not isinstance(out.get(name), int) or isinstance(out.get(name), bool) or out[name] < 0:
                raise ParseError(f"output_agreement output lacks the count {name!r}", source=source)
        for name in numbers:
            value = out.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ParseError(f"output_agreement.{name} must be a number or null, got {value!r}", source=source)
    return line


def _cpu_list(line: Mapping[str, Any], name: str, source: str) -> tuple[int, ...] | None:
    """An optional list of CPU numbers: None when absent or null; anything but a list of CPU numbers is refused."""
    value = line.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                              for v in value):
        raise ParseError(f"{line.get('type')}.{name} must be a list of CPU numbers or null, got {value!r}",
                         source=source)
    return tuple(sorted(set(value)))

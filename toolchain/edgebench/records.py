"""Typed, immutable result records. Units are in field names; pandas only at the edge.

These are what push-and-run returns, what the store holds and what `--json` prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Protocol

CheckOutcome = Literal["pass", "fail", "not_checked"]
RunStatus = Literal["ok", "failed", "invalid"]
DeviceKind = Literal["phone", "emulator", "virtual", "local", "board"]
LatencySource = Literal["measured", "predicted"]
EnergySource = Literal["measured", "simulated", "predicted", "none"]


@dataclass(frozen=True)
class RunConfig:
    """How the model is run: what a user sweeps over in one session."""

    threads: int
    accelerator: str  # cpu | gpu | npu
    cpu_mask: str | None = None  # hex mask as given to taskset, or None for no pinning

    def label(self) -> str:
        mask = f"@{self.cpu_mask}" if self.cpu_mask else ""
        return f"{self.accelerator}/{self.threads}t{mask}"

    def to_json(self) -> dict[str, Any]:
        return {"threads": self.threads, "accelerator": self.accelerator, "cpu_mask": self.cpu_mask}


@dataclass(frozen=True)
class LatencyStats:
    """Distribution of per-inference latency within one run (µs)."""

    count: int
    min_us: float
    p10_us: float | None  # percentiles are None when the engine printed none (benchmark_model)
    median_us: float | None
    p90_us: float | None
    p99_us: float | None
    max_us: float
    mean_us: float
    std_us: float | None  # None for a single inference: undefined, not zero

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "median": self.median_us, "p90": self.p90_us,
                "p99": self.p99_us, "min": self.min_us, "max": self.max_us,
                "p10": self.p10_us, "mean": self.mean_us, "std": self.std_us}


@dataclass(frozen=True)
class Check:
    """One validity check of a run. `advisory` checks are recorded but never invalidate a run."""

    name: str
    outcome: CheckOutcome
    reason: str | None = None
    advisory: bool = False


@dataclass(frozen=True)
class Provenance:
    """Where every number of a run came from: the kind of device, and whether latency and energy were
    measured, simulated or predicted (a record with any non-measured figure is `simulated`)."""

    device_kind: DeviceKind
    latency_source: LatencySource = "measured"
    energy_source: EnergySource = "none"

    @property
    def simulated(self) -> bool:
        # Any figure that is not a real device's measurement makes the record simulated.
        return (self.device_kind in ("virtual", "emulator") or self.latency_source != "measured"
                or self.energy_source in ("simulated", "predicted"))


InputShapeSource = Literal["model", "given", "default", "batch"]


@dataclass(frozen=True)
class InputShape:
    """The shape one model input ran at, as the runner reported it (not as requested).

    `signature` is the file's shape signature (-1 = dynamic). `source`: "model" (static input, ran
    as declared), "given" (--input-shape), "default" (the file's placeholder, accepted with
    --input-shape default), "batch" (only the batch dimension was dynamic: run at batch 1).
    """

    name: str
    signature: tuple[int, ...]
    dims: tuple[int, ...]
    source: InputShapeSource

    @property
    def dynamic(self) -> bool:
        return any(d < 0 for d in self.signature)

    def label(self) -> str:
        return f"{self.name}={'x'.join(str(d) for d in self.dims) or 'scalar'}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "signature": list(self.signature), "shape": list(self.dims),
                "source": self.source}

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> InputShape:
        return InputShape(str(obj["name"]), tuple(int(d) for d in obj["signature"]),
                          tuple(int(d) for d in obj["shape"]), obj["source"])


@dataclass(frozen=True)
class RunRecord:
    """One execution of one model with one config, one repeat, on one target."""

    run_id: str
    run_key: str
    session: str
    model: str
    model_sha256: str
    model_size_bytes: int
    target: str
    device_id: str
    config: RunConfig
    protocol: str
    repeat: int
    status: RunStatus
    checks: tuple[Check, ...]
    provenance: Provenance
    latency: LatencyStats | None = None
    init_ms: float | None = None
    first_inference_us: float | None = None
    peak_rss_kb: int | None = None
    threads_observed: int | None = None
    accelerator_used: str | None = None
    fallback_reason: str | None = None
    output_checksum: str | None = None
    harness_build_id: str | None = None
    runtime_sha256: str | None = None
    runtime_api_generation: str | None = None
    started_at_utc: str | None = None
    wall_seconds: float | None = None
    error: str | None = None
    engine: str = "edgebench_runner"  # or "benchmark_model"
    extra: Mapping[str, Any] = field(default_factory=dict)
    input_shapes: tuple[InputShape, ...] = ()  # empty when the run never reached the runner's setup

    def to_json(self) -> dict[str, Any]:
        """The documented `--json` shape of a run record."""
        return {
            "run_id": self.run_id,
            "session": self.session,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "model_size_bytes": self.model_size_bytes,
            "target": self.target,
            "device_id": self.device_id,
            "config": self.config.to_json(),
            "protocol": self.protocol,
            "repeat": self.repeat,
            "status": self.status,
            "checks": {c.name: c.outcome for c in self.checks},
            "check_reasons": {c.name: c.reason for c in self.checks if c.reason},
            "latency_us": self.latency.to_json() if self.latency else None,
            "init_ms": self.init_ms,
            "first_inference_us": self.first_inference_us,
            "peak_rss_kb": self.peak_rss_kb,
            "threads_observed": self.threads_observed,
            "accelerator_used": self.accelerator_used,
            "fallback_reason": self.fallback_reason,
            "output_checksum": self.output_checksum,
            "device_kind": self.provenance.device_kind,
            "latency_source": self.provenance.latency_source,
            "energy_source": self.provenance.energy_source,
            "simulated": self.provenance.simulated,
            "engine": self.engine,
            "harness_build_id": self.harness_build_id,
            "runtime_sha256": self.runtime_sha256,
            "runtime_api_generation": self.runtime_api_generation,
            "started_at_utc": self.started_at_utc,
            "wall_seconds": self.wall_seconds,
            "error": self.error,
            "input_shapes": [s.to_json() for s in self.input_shapes],
        }


@dataclass(frozen=True)
class ConfigSummary:
    """One model × config on one target, summarized across its repeats (for the comparison table)."""

    model: str
    target: str
    config: RunConfig
    protocol: str
    repeats_ok: int
    repeats_total: int
    median_us: float | None  # median of the per-repeat medians
    # Order-statistic interval of that median across repeats and the level it truly has (stats.median_interval):
    # 75 % with 3 repeats, 95 % only from 6. Both None below 2 repeats.
    median_ci_us: tuple[float, float] | None
    median_ci_level: float | None
    p90_us: float | None
    p99_us: float | None
    init_ms: float | None
    peak_rss_kb: int | None
    model_size_bytes: int
    replicable: bool | None  # repeat medians within 5% (MLPerf's bar); None with fewer than 2
    verdict_allowed: bool  # False for smoke or shortened runs: no comparison verdicts on them
    simulated: bool
    notes: tuple[str, ...] = ()
    input_shapes: tuple[InputShape, ...] = ()  # what the group's runs ran at (one group = one set of shapes)
    # The output_agreement check across the group's runs: "agree", "disagree (k of n runs)",
    # "not checked: <reason>", or "" when no run carries the check (older records).
    output_agreement: str = ""


class JsonRecord(Protocol):
    """A typed record that knows its stored JSON form (battery.Calibration, battery.rails.RunRails, ...)."""

    def to_json(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class EnergyResult:
    """One battery profiling run's energy figures, as stored in the `energy` table (one row per run).

    Powers in mW, energies in mJ, time in s; a figure a window had too few samples for is nan (as
    the estimate left it). `calibration`, `device_changes` and `rails` are stored as their JSON.
    """

    energy_source: EnergySource
    idle_pre_power_mw: float
    idle_post_power_mw: float
    idle_power_mw: float
    active_power_mw: float
    measured_seconds: float
    inferences: int
    energy_per_inference_mj: float  # net of the idle baseline
    gross_energy_per_inference_mj: float
    charge_counter_energy_mj: float | None  # None without a charge counter
    current_integral_energy_mj: float
    calibration: JsonRecord  # the fuel gauge's unit and sign (battery.Calibration)
    power_path: str  # how the charger was kept out of the measurement
    device_changes: JsonRecord  # what edgebench set on the device for the session, and what it refused
    rails: JsonRecord | None = None  # ODPM power-rail figures (battery.rails.RunRails); None without rails

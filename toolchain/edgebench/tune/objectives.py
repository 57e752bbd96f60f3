"""What a tuning study optimizes, and where its on-device figures come from.

    parse_objectives("accuracy,latency,energy")  -> Objectives (names in the user's order; accuracy first)
    parse_figure_source("model:models/lat", "--latency-from") -> FigureSource
    check_energy_source(objectives, energy_from, target)  -> a UsageError where energy cannot be measured
    pareto_set(trials, objectives)  -> the non-dominated trials (analyze's sorting)

Units of a trial's values: accuracy (validation, 0..1), latency = median µs, energy = mJ per inference,
size = .tflite bytes. Accuracy is maximized, the others minimized.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

from edgebench.errors import UsageError

StudyDirectionName = Literal["minimize", "maximize"]
FigureOrigin = Literal["device", "model"]
OBJECTIVE_NAMES = ("accuracy", "latency", "energy", "size")
# `multi` keeps its earlier meaning and value order, and its study name, so its stored studies resume.
ALIASES = {"multi": ("accuracy", "size", "latency")}
UNITS = {"accuracy": "", "latency": "µs", "energy": "mJ", "size": "B"}
DEVICE_FIGURES = ("latency", "energy")  # the figures a device measures or a performance model predicts


@dataclass(frozen=True)
class Objectives:
    """The objectives of a study, in the order of its trial values."""

    names: tuple[str, ...]
    key: str  # in the study's name: accuracy, multi, or the names joined by '+'

    @property
    def multi(self) -> bool:
        return len(self.names) > 1

    @property
    def directions(self) -> list[StudyDirectionName]:
        return ["maximize" if n == "accuracy" else "minimize" for n in self.names]


@dataclass(frozen=True)
class FigureSource:
    """Where latency or energy comes from: the target device, or a saved performance model's predictions."""

    origin: FigureOrigin
    model_path: Path | None = None

    def describe(self) -> str:
        return "device" if self.origin == "device" else f"model:{self.model_path}"


DEVICE = FigureSource("device")


def parse_objectives(text: str) -> Objectives:
    """`accuracy`, `multi` (= accuracy,size,latency) or a comma list of accuracy, latency, energy, size
    that includes accuracy; a UsageError saying what is allowed otherwise."""
    raw = text.strip()
    if raw in ALIASES:
        return Objectives(ALIASES[raw], raw)
    names = tuple(part.strip().lower() for part in raw.split(","))
    allowed = f"{', '.join(OBJECTIVE_NAMES)} (comma-separated, accuracy among them), or multi (= accuracy,size,latency)"
    if not raw or any(not n for n in names):
        raise UsageError(f"--objectives {text!r}: an empty name; expected {allowed}")
    unknown = [n for n in names if n not in OBJECTIVE_NAMES]
    if unknown:
        raise UsageError(f"--objectives {text!r}: unknown objective {', '.join(map(repr, unknown))}; expected {allowed}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"--objectives {text!r}: {', '.join(twice)} named twice; name each objective once")
    if "accuracy" not in names:
        raise UsageError(f"--objectives {text!r}: accuracy is missing; every study trains models and scores their "
                         f"validation accuracy, e.g. --objectives accuracy,{','.join(names)}")
    if names == ("accuracy",):
        return Objectives(names, "accuracy")
    if names == ALIASES["multi"]:
        return Objectives(names, "multi")
    return Objectives(names, "+".join(names))


def parse_figure_source(text: str | None, flag: str) -> FigureSource:
    """`device` (default) or `model:PATH`, PATH a saved performance model (`edgebench perfmodel fit`)."""
    if text is None or text.strip() == "device":
        return DEVICE
    if text.startswith("model:") and text[len("model:"):].strip():
        path = Path(text[len("model:"):].strip()).expanduser()
        if not path.exists():
            raise UsageError(f"{flag} {text}: no saved performance model at {path}; fit one with "
                             "`edgebench perfmodel fit SOURCE --measure latency_median_ms -o DIR` and pass model:DIR")
        return FigureSource("model", path)
    raise UsageError(f"{flag} {text!r}: expected device (measure on --target) or model:PATH (a saved "
                     "performance model predicts it)")


def check_figure_sources(objectives: Objectives, sources: dict[str, FigureSource]) -> None:
    """A model for a figure that is not an objective would be loaded for nothing: say so."""
    for figure, source in sources.items():
        if source.origin == "model" and figure not in objectives.names:
            raise UsageError(f"--{figure}-from {source.describe()}: {figure} is not among --objectives "
                             f"{','.join(objectives.names)}; add it (e.g. --objectives "
                             f"{','.join((*objectives.names, figure))}) or leave --{figure}-from out")


def check_energy_source(objectives: Objectives, energy_from: FigureSource, target: str) -> None:
    """Refuse energy measured on a device: no push-and-run run returns energy per inference (a battery
    protocol takes minutes per model: `edgebench profile`), so tuning predicts it or does not use it."""
    if "energy" not in objectives.names or energy_from.origin == "model":
        return
    if target == "local":
        raise UsageError("--objectives with energy on --target local: this host has no energy meter, so energy "
                         "per inference cannot be measured here. Pass --energy-from model:PATH (a performance "
                         "model of energy_mj fitted with `edgebench perfmodel fit`) to predict it for each trial")
    raise UsageError(f"--objectives with energy on --target {target}: tuning measures each trial with a short "
                     "push-and-run, which records no energy (energy per inference needs the battery protocol of "
                     "`edgebench profile`, minutes per model). Measure energy there, fit a model of energy_mj "
                     "(`edgebench perfmodel fit`), and pass --energy-from model:PATH")


def pareto_set(complete: Sequence[Any], objectives: Objectives) -> list[Any]:
    """The finished trials no other of `complete` beats on every objective together (analyze's
    non-dominated sorting, the one `study run` and `edgebench pareto` use)."""
    import numpy as np

    from edgebench.analyze.fronts import on_frontier
    from edgebench.analyze.objectives import Objective

    if not complete:
        return []
    axes = [Objective(name, direction == "maximize") for name, direction in zip(objectives.names, objectives.directions)]
    flags = on_frontier(np.array([t.values for t in complete], dtype=float), axes)
    return [t for t, f in zip(complete, flags) if f]


def format_values(values: Sequence[float] | None, names: Sequence[str], sources: Sequence[str] | None) -> str:
    """`0.81, 1234 B, 95.2 µs predicted`: each value with its unit, and `predicted` beside a predicted one."""
    if values is None:
        return "—"
    out = []
    for i, (value, name) in enumerate(zip(values, names)):
        text = f"{value:.4f}" if name == "accuracy" else f"{value:.6g} {UNITS[name]}"
        source = sources[i] if sources is not None and i < len(sources) else "measured"
        out.append(text + ("" if source == "measured" else f" {source}"))
    return ", ".join(out)


def front_label(names: tuple[str, ...] | list[str], figure_sources: tuple[tuple[str, str], ...]) -> str:
    """What the reported front is made of: latency is always measured in it (trials whose latency was only
    predicted are left out); energy, when an objective, is predicted on every trial (no device measures it)."""
    if len(names) < 2:
        return "best"
    origins = dict(figure_sources)
    parts = []
    if "latency" in names:
        parts.append("latency measured on the device")
    if "energy" in names:
        parts.append("energy predicted by " + origins.get("energy", "a model"))
    return "non-dominated" + (f" ({'; '.join(parts)})" if parts else "")

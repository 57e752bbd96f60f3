"""Summaries across repeats: one row per target × model × config, for the comparison table."""
from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any, Iterable

from edgebench.protocols import PRESETS
from edgebench.records import ConfigSummary, InputShape, RunRecord
from edgebench.stats import TARGET_LEVEL, format_level, median_interval, relative_spread, repeats_for_level

# MLPerf's replicability bar: repeat medians within 5% of each other.
REPLICABILITY_SPREAD = 0.05


def agreement_summary(runs: list[RunRecord]) -> str:
    """The output_agreement checks of a group's runs in a few words (figures are in each check's reason)."""
    checks = [c for r in runs for c in r.checks if c.name == "output_agreement"]
    failed = [c for c in checks if c.outcome == "fail"]
    if failed:
        return f"disagree ({len(failed)} of {len(checks)} runs)"
    if checks and all(c.outcome == "pass" for c in checks):
        return "agree"
    skipped = sorted({c.reason or "no reason" for c in checks if c.outcome == "not_checked"})
    return f"not checked: {'; '.join(skipped)}" if skipped else ""


def summarize(records: Iterable[RunRecord]) -> list[ConfigSummary]:
    out = []
    for (target, _sha, model, config, protocol), shapes, runs in _groups(records):
        ok = [r for r in runs if r.status == "ok" and r.latency is not None]
        medians = [r.latency.median_us for r in ok if r.latency.median_us is not None]  # type: ignore[union-attr]
        spread = relative_spread(medians)
        shortened = any(c.name == "shortened" and c.outcome == "fail" for r in runs for c in r.checks)
        notes = []
        failed = [r for r in runs if r.status == "failed"]
        invalid = [r for r in runs if r.status == "invalid"]
        if failed:
            notes.append(f"{len(failed)} failed: {failed[0].error}")
        if invalid:
            reasons = sorted({c.reason or c.name for r in invalid for c in r.checks
                              if c.outcome == "fail" and not c.advisory})
            notes.append(f"{len(invalid)} invalid: {'; '.join(reasons)}")
        if shortened:
            notes.append("shortened: no verdicts")
        if any(r.engine == "benchmark_model" for r in runs):
            notes.append("benchmark_model engine: no per-run times, so no percentiles")
        interval = median_interval(medians)
        if interval is not None and interval.level < TARGET_LEVEL:
            notes.append(f"{len(medians)} repeats give a {format_level(interval.level)} interval of the median; "
                         f"{repeats_for_level(TARGET_LEVEL)} reach {format_level(TARGET_LEVEL)}")
        if spread is not None and spread > REPLICABILITY_SPREAD:
            notes.append(f"repeat medians spread {spread:.1%} > {REPLICABILITY_SPREAD:.0%}")
        preset = PRESETS.get(protocol)
        out.append(ConfigSummary(
            model=model, target=target, config=config, protocol=protocol, repeats_ok=len(ok),
            repeats_total=len(runs),
            median_us=median(medians) if medians else None,
            median_ci_us=None if interval is None else (interval.low_us, interval.high_us),
            median_ci_level=None if interval is None else interval.level,
            p90_us=_median_of([r.latency.p90_us for r in ok]),  # type: ignore[union-attr]
            p99_us=_median_of([r.latency.p99_us for r in ok]),  # type: ignore[union-attr]
            init_ms=_median_of([r.init_ms for r in ok]),  # None when no run reported one
            peak_rss_kb=max((r.peak_rss_kb for r in ok if r.peak_rss_kb is not None), default=None),
            model_size_bytes=runs[0].model_size_bytes,
            replicable=None if spread is None else spread <= REPLICABILITY_SPREAD,
            verdict_allowed=bool(preset and preset.verdicts) and not shortened,
            simulated=any(r.provenance.simulated for r in runs),
            notes=tuple(notes), input_shapes=shapes, output_agreement=agreement_summary(runs)))
    out.sort(key=lambda s: (s.target, s.model, s.config.accelerator, s.config.threads))
    return out


def _groups(records: Iterable[RunRecord]) -> list[tuple[tuple[Any, ...], tuple[InputShape, ...], list[RunRecord]]]:
    """Runs of one target × model × config × protocol, split by the input shapes they ran at (a run
    at another shape is another row). Runs that never reached the runner's setup (no shapes) join
    the one shape group when there is one."""
    by_config: dict[tuple[Any, ...], dict[tuple[InputShape, ...], list[RunRecord]]] = \
        defaultdict(lambda: defaultdict(list))
    for r in records:
        by_config[(r.target, r.model_sha256, r.model, r.config, r.protocol)][r.input_shapes].append(r)
    out = []
    for key, by_shape in by_config.items():
        unknown = by_shape.pop((), [])
        if len(by_shape) == 1 and unknown:
            next(iter(by_shape.values())).extend(unknown)
        elif unknown:
            by_shape[()] = unknown
        out += [(key, shapes, runs) for shapes, runs in by_shape.items()]
    return out


def _median_of(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return median(known) if known else None

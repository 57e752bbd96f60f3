"""PNG plots of a battery run's trace and of energy per inference across variants.

Built on matplotlib's object API with the Agg canvas, never pyplot: no global backend switch, no
window, safe in worker threads. matplotlib is imported only when a plot is made.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from edgebench.battery.calibration import Calibration
from edgebench.battery.estimate import Windows, power_mw
from edgebench.battery.gauge import GaugeSeries
from edgebench.battery.summary import EnergySummary

MAX_MARKERS = 200  # more inference markers than this are thinned to every k-th
_SHADES = (("idle_pre", "idle", "#9e9e9e"), ("warmup", "warm-up", "#ffb74d"), ("measured", "measured", "#64b5f6"),
           ("idle_post", "idle", "#9e9e9e"))


def _figure(width_in: float, height_in: float, rows: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, axes


def _save(fig: Any, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=110)
    return out


def plot_trace(series: GaugeSeries, calibration: Calibration, windows: Windows,
               inference_times_s: np.ndarray | None, path: str | Path) -> Path:
    """Calibrated discharge current (mA) and power (mW) over the run, phases shaded, inferences marked."""
    run = series.between(*windows.span)
    origin = windows.span[0]
    t = run.t_s - origin
    current_ma = calibration.discharge_current_ua(run.current_raw) / 1000.0
    power = power_mw(run, calibration)
    fig, (ax_i, ax_p) = _figure(11, 6, rows=2)
    ax_i.plot(t, current_ma, lw=0.6, color="#1565c0")
    ax_i.set_ylabel("discharge current (mA)")
    ax_p.plot(t, power, lw=0.6, color="#c62828")
    ax_p.set_ylabel("battery power (mW)")
    ax_p.set_xlabel(f"time since idle start (s; CLOCK_BOOTTIME {origin:.1f} s)")
    for ax in (ax_i, ax_p):
        seen = set()
        for name, label, color in _SHADES:
            start, end = getattr(windows, name)
            ax.axvspan(start - origin, end - origin, color=color, alpha=0.15, lw=0,
                       label=None if label in seen else label)
            seen.add(label)
    title = f"battery trace ({calibration.source})"
    if inference_times_s is not None and len(inference_times_s):
        marks = np.sort(np.asarray(inference_times_s, dtype=np.float64)) - origin
        step = max(1, math.ceil(marks.size / MAX_MARKERS))
        shown = marks[::step]
        ymax = np.nanmax(power) if np.isfinite(power).any() else 1.0
        ax_p.plot(shown, np.full(shown.size, ymax), "|", ms=6, color="#2e7d32",
                  label="inference" if step == 1 else f"inferences (1 in {step} shown)")
        title += f"; {marks.size} inferences"
    ax_i.set_title(title, fontsize=9)
    ax_p.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_energy(summaries: Mapping[str, EnergySummary], path: str | Path) -> Path:
    """Net energy per inference per variant with its 95 % CI; variants without a value are named, not drawn."""
    names = list(summaries)
    fig, (ax,) = _figure(8, max(2.0, 0.5 * len(names) + 1.2))
    for y, name in enumerate(names):
        s = summaries[name]
        if s.value_mj is None:
            ax.annotate(f"no valid runs ({s.n_invalid} invalid)", (0, y), xycoords=("axes fraction", "data"),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, color="#b71c1c")
            continue
        if s.ci_low_mj is not None and s.ci_high_mj is not None:
            err = [[s.value_mj - s.ci_low_mj], [s.ci_high_mj - s.value_mj]]
            ax.errorbar([s.value_mj], [y], xerr=err, fmt="o", color="#1565c0", capsize=4)
        else:
            ax.plot([s.value_mj], [y], "o", color="#9e9e9e")
        method = {"bootstrap": ", bootstrap CI", None: ", no CI"}.get(s.ci_method, "")
        tag = f"n={s.n_valid}{method}" + (", CV>10%" if s.high_cv else "")
        ax.annotate(tag, (s.value_mj, y), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("net energy per inference (mJ), 95 % CI over runs")
    labels = {s.label for s in summaries.values()}
    ax.set_title("; ".join(sorted(labels)) if labels else "energy per inference", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    lows = [s.ci_low_mj if s.ci_low_mj is not None else s.value_mj for s in summaries.values()
            if s.value_mj is not None]
    if lows and min(lows) > 0:
        ax.set_xlim(left=0)  # energies are on a ratio scale: start at zero so variants compare by eye
    return _save(fig, path)

"""Battery profiling math (docs/measurement-methodology.md §1, §4.1): gauge series, calibration, energy per inference,
invalid-run checks, CIs over repeats and plots. No device I/O: callers pass what the sampler read.
matplotlib is imported only when a plot is made.
"""
from __future__ import annotations

from edgebench.battery.calibration import Calibration, CalibrationError, calibrate, sample_period_s
from edgebench.battery.checks import is_valid
from edgebench.battery.estimate import RunEnergy, Windows, counter_discharge_uah, estimate_run, power_mw
from edgebench.battery.gauge import GaugeSeries, voltage_to_uv
from edgebench.battery.plots import plot_energy, plot_trace
from edgebench.battery.summary import EnergySummary, mean_ci95, summarize_repeats

__all__ = [
    "Calibration", "CalibrationError", "EnergySummary", "GaugeSeries", "RunEnergy", "Windows", "calibrate",
    "counter_discharge_uah", "estimate_run", "is_valid", "mean_ci95", "plot_energy", "plot_trace", "power_mw",
    "sample_period_s", "summarize_repeats", "voltage_to_uv",
]


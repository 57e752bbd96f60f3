"""A battery gauge time series as the on-device sampler read it, plus unit handling.

Raw on purpose: `current_raw` keeps the device's own unit (µA or mA) and sign, because only the per-device
calibration (calibration.py, docs/measurement-methodology.md §1.3) can say which they are. Voltage is the
one unit fixed here, by magnitude: the kernel ABI says µV, but some devices print mV (§1.2); a Li-ion pack
reads 0.5-100 V, so a median below 100 000 is taken as mV (documented in `voltage_to_uv`). Missing or
unreadable values are nan (status: None), never 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
# scipy's trapezoid: numpy renamed trapz to trapezoid in 2.0, and the project allows numpy 1.26.
from scipy.integrate import trapezoid as _trapezoid

from edgebench.errors import ParseError

# Channel file names under the power_supply directory, keyed by GaugeSeries field.
_NUMERIC_NODES = {
    "current_raw": "current_now",
    "voltage_uv": "voltage_now",
    "charge_counter_uah": "charge_counter",
    "temp_decic": "temp",
    "capacity_pct": "capacity",
}
_STATUS_NODE = "status"

# voltage_now magnitude bands (median of the readable samples).
_UV_MIN = 100_000.0  # 0.1 V in µV; in mV this would be 100 V, more than any phone or board pack
_MV_MIN = 500.0  # 0.5 V in mV; below that it is neither unit of a live battery


def voltage_to_uv(values: np.ndarray, *, source: str = "voltage_now") -> tuple[np.ndarray, str | None]:
    """Return (voltage in µV, unit as read: "uV", "mV" or None when nothing was readable).

    Detection is by the median magnitude: ≥ 100 000 means µV (ABI), 500-100 000 means mV.
    Anything smaller (volts, or a broken node) is a ParseError rather than a guess.
    """
    arr = np.asarray(values, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return arr.copy(), None
    median = float(np.median(np.abs(finite)))
    if median >= _UV_MIN:
        return arr.copy(), "uV"
    if median >= _MV_MIN:
        return arr * 1000.0, "mV"
    raise ParseError(f"voltage_now median {median:g} is neither µV (≥ {_UV_MIN:g}) nor mV (≥ {_MV_MIN:g}) "
                     "of a live battery; check that the node is the battery's voltage_now", source=source)


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays do not compare as one bool
class GaugeSeries:
    """What the sampler read, one row per sample time, in time order."""

    t_s: np.ndarray  # CLOCK_BOOTTIME seconds of each sample
    current_raw: np.ndarray  # current_now as read: unit and sign unknown until calibrated; nan = unreadable
    voltage_uv: np.ndarray  # µV (converted from mV when the device printed mV; see voltage_source_unit)
    charge_counter_uah: np.ndarray  # nan when the node is missing or was not sampled at this time
    status: tuple[str | None, ...]  # as read: "Charging", "Discharging", "Not charging", "Full", "Unknown"
    temp_decic: np.ndarray  # battery temperature, 0.1 °C
    capacity_pct: np.ndarray
    voltage_source_unit: str | None = "uV"  # what voltage_now printed: "uV", "mV", None if never readable
    battery_dir: str | None = None  # e.g. /sys/class/power_supply/battery, when built from samples

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        n = t.size
        for name in ("current_raw", "voltage_uv", "charge_counter_uah", "temp_decic", "capacity_pct"):
            arr = np.array(getattr(self, name), dtype=np.float64)  # a private, read-only copy
            if arr.shape != (n,):
                raise ValueError(f"GaugeSeries.{name} has shape {arr.shape}, expected ({n},) like t_s")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if len(self.status) != n:
            raise ValueError(f"GaugeSeries.status has {len(self.status)} entries, expected {n} like t_s")
        if n and (not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0)):
            raise ValueError("GaugeSeries.t_s must be finite and strictly increasing (one row per sample time)")
        t = t.copy()
        t.setflags(write=False)
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "status", tuple(self.status))

    def __len__(self) -> int:
        return int(self.t_s.size)

    def between(self, start_s: float, end_s: float) -> GaugeSeries:
        """The rows with start_s ≤ t ≤ end_s."""
        keep = (self.t_s >= start_s) & (self.t_s <= end_s)
        idx = np.flatnonzero(keep)
        return GaugeSeries(
            t_s=self.t_s[idx], current_raw=self.current_raw[idx], voltage_uv=self.voltage_uv[idx],
            charge_counter_uah=self.charge_counter_uah[idx], status=tuple(self.status[i] for i in idx),
            temp_decic=self.temp_decic[idx], capacity_pct=self.capacity_pct[idx],
            voltage_source_unit=self.voltage_source_unit, battery_dir=self.battery_dir)

    @classmethod
    def from_samples(cls, samples: Sequence[Any], battery_dir: str) -> GaugeSeries:
        """Build from the store's raw samples: (t_ns, channel, value_text) tuples or DeviceSample rows.

        Only `<battery_dir>/{current_now,voltage_now,charge_counter,status,temp,capacity}` are used;
        thermal zones, cpufreq and other channels are ignored. Each distinct t_ns that has at least
        one battery channel becomes one row; a channel absent at that time is nan (None for status).
        """
        base = battery_dir.rstrip("/")
        field_of = {f"{base}/{node}": name for name, node in _NUMERIC_NODES.items()}
        status_channel = f"{base}/{_STATUS_NODE}"
        rows: dict[int, dict[str, Any]] = {}
        others: set[str] = set()
        for sample in samples:
            t_ns, channel, text = _unpack(sample)
            name = field_of.get(channel) or ("status" if channel == status_channel else None)
            if name is None:
                if len(others) < 5:
                    others.add(channel)
                continue
            row = rows.setdefault(int(t_ns), {})
            value: Any = _status_text(text) if name == "status" else _number(text, channel, t_ns)
            if name in row and not _same(row[name], value):
                raise ParseError(f"two different values at t_ns={t_ns}: {row[name]!r} and {value!r}; "
                                 "expected one reading per channel per sample time", source=channel)
            row[name] = value
        if not rows:
            raise ParseError(f"no samples of {base}/current_now, voltage_now, charge_counter, status, temp or "
                             f"capacity; channels seen include {sorted(others) or 'none'}. Check the battery "
                             "directory the sampler used (power_supply/*/type == Battery)", source=base)
        times = sorted(rows)
        columns = {name: np.array([rows[t].get(name, math.nan) for t in times], dtype=np.float64)
                   for name in _NUMERIC_NODES}
        voltage_uv, unit = voltage_to_uv(columns.pop("voltage_uv"), source=f"{base}/voltage_now")
        return cls(t_s=np.array(times, dtype=np.float64) / 1e9, voltage_uv=voltage_uv,
                   status=tuple(rows[t].get("status") for t in times), voltage_source_unit=unit,
                   battery_dir=base, **columns)


def _unpack(sample: Any) -> tuple[int, str, str | None]:
    if hasattr(sample, "t_ns"):
        return sample.t_ns, sample.channel, sample.value_text
    t_ns, channel, text = sample
    return t_ns, channel, text


def _status_text(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


def _number(text: str | None, channel: str, t_ns: int) -> float:
    """A sysfs number; None or empty text is an unreadable sample (nan), other text is an error."""
    if text is None or not text.strip():
        return math.nan
    try:
        return float(int(text.strip()))
    except ValueError:
        pass
    try:
        value = float(text.strip())
    except ValueError:
        raise ParseError(f"expected a number at t_ns={t_ns}, got {text!r}", source=channel, line=text) from None
    if not math.isfinite(value):
        raise ParseError(f"expected a finite number at t_ns={t_ns}, got {text!r}", source=channel, line=text)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)




def integrate(t_s: np.ndarray, values: np.ndarray) -> float:
    """Trapezoid integral of values over t_s (the caller drops unreadable samples first)."""
    return float(_trapezoid(values, t_s))


def change_times_s(t_s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Times of the readable samples whose value differs from the previous readable sample."""
    finite = np.isfinite(values)
    t, v = t_s[finite], values[finite]
    if v.size < 2:
        return np.empty(0)
    changed: np.ndarray = t[1:][np.diff(v) != 0]
    return changed


def longest_hold_s(t_s: np.ndarray, values: np.ndarray) -> tuple[float, float] | None:
    """(duration, start time) of the longest stretch over which the readable value did not change.

    A stretch runs from the first sample showing a value to the first sample showing a different one
    (or to the last sample, for the final stretch). None with fewer than 2 readable samples.
    """
    finite = np.isfinite(values)
    t, v = t_s[finite], values[finite]
    if v.size < 2:
        return None
    starts = np.concatenate(([0], np.flatnonzero(np.diff(v) != 0) + 1))
    ends_t = np.concatenate((t[starts[1:]], [t[-1]]))
    durations = ends_t - t[starts]
    i = int(np.argmax(durations))
    return float(durations[i]), float(t[starts[i]])

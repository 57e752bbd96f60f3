"""The push-and-run command lines that measure exactly a plan's configurations.

push-and-run measures the cross product of its models × `--accel` × `--threads`, with one `--cpu-mask`
per command. So the chosen configurations are grouped by model and CPU mask, and within a group the
thread counts that share the same set of accelerators make one command: each command's cross product is
a part of the chosen set, and together they are the chosen set, nothing more. Options push-and-run
cannot set (a model's FLOPs, a one-hot accelerator column) are fine as long as its own settings
determine them; otherwise no commands are given, and the notes say why.

    run_values_from_frame(frame) -> one {setting: value} per row, for the columns push-and-run sets
    push_and_run_commands(configurations, options, device=...) -> (command lines, notes)
"""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

if TYPE_CHECKING:
    import pandas as pd

# push-and-run's own settings, and the column names a table may give them (compared lower-case, - as _)
RUN_SETTINGS: dict[str, tuple[str, ...]] = {
    "threads": ("threads", "num_threads", "nthreads"),
    "accelerator": ("accelerator", "accel"),
    "cpu_mask": ("cpu_mask",),
    "model": ("model", "model_path", "model_file", "tflite"),
    "model_sha256": ("model_sha", "model_sha256", "sha256"),
}
ONE_HOT_ACCEL = "accel."  # perfmodel/features.py's run features: accel.<name> = 1 for the accelerator that ran


class Configuration(Protocol):
    @property
    def options(self) -> dict[str, float]: ...

    @property
    def run_values(self) -> dict[str, str]: ...


def setting_of(column: str) -> str | None:
    """Which push-and-run setting a column holds, if any."""
    name = str(column).strip().lower().replace("-", "_")
    return next((s for s, names in RUN_SETTINGS.items() if name in names), None)


def run_values_from_frame(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Per row, push-and-run's settings found in the table's columns (cells as written; 2.0 reads 2). The
    store's one-hot accelerator features (`accel.cpu`, `accel.gpu`, ...) give the accelerator when no column
    names it."""
    columns = {setting_of(c): c for c in frame.columns if setting_of(c) is not None}
    one_hot = {str(c)[len(ONE_HOT_ACCEL):]: c for c in frame.columns if str(c).startswith(ONE_HOT_ACCEL)}
    rows: list[dict[str, str]] = []
    for _, row in frame.iterrows():
        values = {}
        for setting, column in columns.items():
            text = _text(row[column])
            if setting is not None and text:
                values[setting] = text
        hot = [name for name, column in one_hot.items() if row[column] == 1]
        if "accelerator" not in columns and len(hot) == 1:
            values["accelerator"] = hot[0]
        rows.append(values)
    return rows


def push_and_run_commands(configurations: Sequence[Configuration], options: Sequence[str], *,
                          device: str | None = None) -> tuple[list[str], list[str]]:
    """Command lines measuring exactly `configurations`, and notes on what could not be expressed."""
    if not configurations:
        return [], []
    keys = set().union(*(c.run_values for c in configurations))
    if not keys:
        return [], ["no push-and-run commands: the candidates have none of the columns push-and-run sets "
                    "(threads, accelerator, cpu_mask, model or model_sha256)"]
    lacking = sorted(k for k in keys if any(k not in c.run_values for c in configurations))
    if lacking:
        return [], [f"no push-and-run commands: some chosen configurations have no {', '.join(lacking)}"]
    # push-and-run can only set its own settings: configurations that agree on them must be one and the same
    settings = sorted(keys)
    seen: dict[tuple[str, ...], Configuration] = {}
    for configuration in configurations:
        key = tuple(configuration.run_values[k] for k in settings)
        first = seen.setdefault(key, configuration)
        differing = [o for o in options if first.options[o] != configuration.options[o]]
        if differing:
            return [], [f"no push-and-run commands: configurations with the same {', '.join(settings)} differ in "
                        f"{', '.join(differing)}, which push-and-run cannot set; set them on the device and "
                        "measure those configurations yourself"]
    groups: dict[tuple[str, str], list[Configuration]] = {}
    for configuration in seen.values():
        groups.setdefault((_model(configuration.run_values), configuration.run_values.get("cpu_mask", "")),
                          []).append(configuration)
    notes = []
    if "model" not in keys:
        notes.append("the candidates name no model path: replace <MODEL> in the commands with the .tflite file"
                     + (" whose sha256 is given" if "model_sha256" in keys else ""))
    lines = []
    for (model, mask), members in groups.items():
        accels_of: dict[str, set[str]] = {}
        for c in members:
            accels_of.setdefault(c.run_values.get("threads", ""), set()).add(c.run_values.get("accelerator", ""))
        threads_of: dict[tuple[str, ...], list[str]] = {}
        for threads, accels in accels_of.items():
            threads_of.setdefault(tuple(sorted(accels)), []).append(threads)
        for accel_names, threads_list in threads_of.items():
            words = ["edgebench", "push-and-run", model]
            if "threads" in keys:
                words += ["--threads", ",".join(sorted(threads_list, key=_number))]
            if "accelerator" in keys:
                words += ["--accel", ",".join(accel_names)]
            if mask:
                words += ["--cpu-mask", mask]
            if device:
                words += ["--target", device]
            lines.append(" ".join(w if w.startswith("<") else shlex.quote(w) for w in words))
    return lines, notes


def _model(values: Mapping[str, str]) -> str:
    if "model" in values:
        return values["model"]
    if "model_sha256" in values:
        return f"<MODEL:sha256={values['model_sha256']}>"
    return "<MODEL>"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(text: str) -> tuple[float, str]:
    try:
        return float(text), text
    except ValueError:
        return float("inf"), text

"""The source for a new device: every other device's measured rows in the results store, as one table
(`perfmodel suggest --device D` without `--source`).

    other_devices_source(device, options=..., measure=..., workspace=...) -> PerfTable

Each other device's rows come from its own store selector (`device=ID`, through `resolve_source`), all over
the same options: the named ones, or those the first device's table takes. The new device's own rows, if
any, are left out: it matches by device id, a beginning of one, its model name or the serial it ran as.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.sources import STORE_MEASURES, resolve_source
from edgebench.perfmodel.table import PerfTable, table_from_frame


@dataclass(frozen=True)
class StoredDevice:
    """A device with runs in the store: its id, model name and the target names (serials) it ran as."""
    device_id: str
    model: str
    targets: tuple[str, ...]

    def matches(self, text: str) -> bool:
        return (self.device_id == text or (len(text) >= 4 and self.device_id.startswith(text))
                or self.model.lower() == text.lower() or text in self.targets)


def stored_devices(workspace: str | Path | None) -> list[StoredDevice]:
    """The devices with at least one run in the workspace's results store."""
    from edgebench.analyze.variant_table import workspace_root
    from edgebench.store import ResultsStore
    from edgebench.workspace import STORE_ENV, Workspace

    root = workspace_root(workspace)
    where = Workspace(root)
    if not os.environ.get(STORE_ENV) and not where.results_db.is_file():
        raise UsageError(f"{root} has no results store (results.sqlite): give the workspace that measured the "
                         "other devices (--workspace DIR), or --source FILE_OR_SELECTOR")
    store = ResultsStore(where.results_store)
    try:
        targets: dict[str, set[str]] = {}
        for run in store.table_rows("runs"):
            targets.setdefault(str(run["device_id"]), set()).add(str(run["target"]))
        models = {str(d["device_id"]): str(d.get("model") or "") for d in store.table_rows("devices")}
    finally:
        store.close()
    return [StoredDevice(d, models.get(d, ""), tuple(sorted(t))) for d, t in sorted(targets.items())]


def other_devices_source(device: str, *, options: Sequence[str] | None, measure: str | None,
                         workspace: str | Path | None,
                         resolve: Callable[..., PerfTable] | None = None) -> PerfTable:
    """Every stored device's rows but `device`'s, joined into one table over common options (`resolve`
    reads one device's rows; default `resolve_source`)."""
    import pandas as pd

    resolve = resolve or resolve_source
    devices = stored_devices(workspace)
    others = [d for d in devices if not d.matches(device)]
    if not others:
        seen = ", ".join(f"{d.device_id} ({d.model})" for d in devices) or "none"
        raise UsageError(f"the results store has runs of no device other than {device!r} (devices with runs: "
                         f"{seen}); measure another device first, or give --source FILE_OR_SELECTOR")
    measure = measure or STORE_MEASURES[0]
    tables: list[PerfTable] = []
    for other in others:
        # Every feature, constant ones too: threads may be constant on one device and vary on another, so
        # what is constant is decided over the join below, not per device.
        tables.append(resolve(f"device={other.device_id}", options=options, measure=measure, workspace=workspace,
                              keep_constant=True))
    names = [n for n in tables[0].options if all(n in t.options for t in tables[1:])]
    dropped: list[str] = []
    if options is None:
        joined = pd.concat([t.frame[names] for t in tables], ignore_index=True)
        dropped = [n for n in names if joined[n].nunique() < 2]
        names = [n for n in names if n not in dropped]
    provenances = {t.provenance for t in tables}
    if len(provenances) > 1 and measure == "energy_mj":
        raise UsageError("the other devices' energy is measured on some and simulated on others; a table never "
                         "mixes them: give --source with the devices to learn from")
    frame = pd.concat([t.frame[names + [measure]] for t in tables], ignore_index=True)
    notes = [f"{t.source}: {note}" for t in tables for note in t.notes]
    uncommon = sorted({n for t in tables for n in t.options} - set(names) - set(dropped))
    if uncommon:
        notes.append(f"left out feature(s) not known on every device: {', '.join(uncommon)}")
    if dropped:
        notes.append(f"left out {len(dropped)} feature(s) constant over every device's rows: {', '.join(dropped)}")
    if len(provenances) > 1:
        notes.append("some devices' latency is simulated (virtual devices), so the table's is")
    excluded = [d.device_id for d in devices if d.matches(device)]
    if excluded:
        notes.append(f"left out the rows of {', '.join(excluded)}: they are {device!r}'s own")
    source = f"store rows of every device but {device} ({', '.join(d.device_id for d in others)})"
    table = table_from_frame(frame, options=names, measure=measure, source=source,
                             ids=[i for t in tables for i in t.ids],
                             device_ids=[d for t in tables for d in t.device_ids],
                             provenance="simulated" if "simulated" in provenances else "measured")
    return dataclasses.replace(table, notes=tuple(notes))

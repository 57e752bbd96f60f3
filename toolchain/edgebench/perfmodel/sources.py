"""Where a performance model's rows come from: a table file, or runs in the results store picked by a
selector (`session=S`, `device=D`, `study=S`, joined by commas: `session=S,device=D`).

    resolve_source(text, options=..., measure=..., workspace=...) -> PerfTable
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.selectors import SELECTOR_KEYS, STORE_MEASURES, parse_selector
from edgebench.perfmodel.table import PerfTable, read_config_file, table_from_frame

__all__ = ["SELECTOR_KEYS", "STORE_MEASURES", "parse_selector", "resolve_source"]

def resolve_source(text: str, *, options: Sequence[str] | None, measure: str | None,
                   workspace: str | Path | None = None, keep_constant: bool = False) -> PerfTable:
    """A file's table (options and measure named by the user) or the store's rows for a selector (options
    are the model features and run options unless named — without the constant ones unless `keep_constant`;
    the measure defaults to latency_median_ms)."""
    selector = parse_selector(text)
    if selector is None:
        if Path(text).is_file() or not any(k + "=" in text for k in SELECTOR_KEYS):
            if not options:
                raise UsageError(f"{text}: a table file needs --options COL,COL,... naming its option columns")
            if measure is None:
                raise UsageError(f"{text}: a table file needs --measure COL naming the measured column")
            return table_from_frame(read_config_file(text), options=options, measure=measure, source=text)
        raise UsageError(f"{text!r}: neither a file nor a store selector; a selector is KEY=VALUE[,KEY=VALUE] "
                         f"with keys {', '.join(SELECTOR_KEYS)}")
    from edgebench.perfmodel.store_table import store_table

    return store_table(selector, options=options, measure=measure or STORE_MEASURES[0], workspace=workspace,
                       keep_constant=keep_constant)

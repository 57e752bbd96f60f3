"""The table every performance model learns from: one row per measured configuration, numeric option
columns and one measure column (`PerfTable`), read from a CSV, Parquet or whitespace-separated text file
(`read_config_file`) or built from the results store (`perfmodel/store_table.py`)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PARQUET_MAGIC = b"PAR1"
MAX_TABLE_BYTES = 512 * 1024 * 1024
def _decimal_comma(delimiter: str) -> re.Pattern[str]:
    d = re.escape(delimiter)
    return re.compile(rf"(?:^|{d})[ ]*-?\d+,\d+[ ]*(?:{d}|$)", re.MULTILINE)


@dataclass(frozen=True, eq=False)
class PerfTable:
    """Configurations with a measure. `frame` holds the option columns (float) and, when measured, the
    measure column (float > 0); `ids` names each row for messages and output (a file's row number from 1,
    or the store's run/variant key)."""
    frame: pd.DataFrame
    options: tuple[str, ...]
    measure: str | None
    source: str  # where the rows came from: a path or a store selector
    ids: tuple[str, ...]
    device_ids: tuple[str, ...] = ()  # the devices the rows were measured on (store rows); empty for files
    provenance: str = "measured"  # measured | simulated (virtual device energy) — never mixed in one table
    notes: tuple[str, ...] = field(default_factory=tuple)  # what was left out or derived, said to the user

    @property
    def rows(self) -> int:
        return len(self.frame)

    def x(self) -> np.ndarray:
        return self.frame[list(self.options)].to_numpy(dtype=float)

    def y(self) -> np.ndarray:
        if self.measure is None:
            raise UsageError(f"{self.source}: no measure column was named, so there is nothing to learn or score")
        return self.frame[self.measure].to_numpy(dtype=float)

    def subset(self, rows: Sequence[int] | np.ndarray) -> PerfTable:
        """The same table restricted to row positions `rows` (order kept as given)."""
        import numpy as np

        index = np.asarray(rows, dtype=int)
        return PerfTable(frame=self.frame.iloc[index].reset_index(drop=True), options=self.options,
                         measure=self.measure, source=self.source, ids=tuple(self.ids[i] for i in index),
                         device_ids=self.device_ids, provenance=self.provenance, notes=self.notes)


def read_config_file(path: str | Path) -> pd.DataFrame:
    """A table of configurations from CSV (comma, semicolon or tab separated: detected; with semicolons or
    tabs, a decimal comma is read as such), Parquet (by its magic bytes, whatever the suffix) or
    whitespace-separated text. A UTF-8 BOM, CRLF line ends and
    `#` comment lines are accepted."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: expected a table of configurations (CSV, Parquet or whitespace-separated "
                         "text); no file is there")
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise UsageError(f"{path}: {size} bytes; tables over {MAX_TABLE_BYTES} bytes are refused. Split it or "
                         "keep only the option and measure columns.")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == PARQUET_MAGIC:
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise UsageError(f"{path}: reading Parquet needs pyarrow ({exc}): pip install pyarrow, or give a "
                             "CSV") from None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text and not Parquet ({exc}); expected CSV, Parquet or "
                         "whitespace-separated text") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) < 2:
        raise UsageError(f"{path}: expected a header line and at least one row; found {len(lines)} non-empty "
                         "line(s)")
    body = "\n".join(lines)
    delimiter = _delimiter(lines[:20])
    try:
        if delimiter is None:
            return pd.read_csv(io.StringIO(body), sep=r"\s+", engine="python")
        # A semicolon- or tab-separated export from a comma-decimal locale (de_DE, fr_FR, ...) writes 10,5.
        decimal = "," if delimiter in (";", "\t") and _decimal_comma(delimiter).search(body) else "."
        return pd.read_csv(io.StringIO(body), sep=delimiter, skipinitialspace=True, decimal=decimal)
    except (ValueError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path}: could not read it as a {'whitespace-separated' if delimiter is None else repr(delimiter) + '-separated'}"
                         f" table: {exc}") from None


def _delimiter(lines: list[str]) -> str | None:
    """',' ';' or '\\t' when every sampled line splits into the same number (>1) of fields on it;
    None for whitespace-separated text."""
    for candidate in (",", ";", "\t"):
        counts = {len(row) for row in csv.reader(lines, delimiter=candidate)}
        if len(counts) == 1 and counts.pop() > 1:
            return candidate
    return None


def table_from_frame(frame: pd.DataFrame, *, options: Sequence[str], measure: str | None, source: str,
                     ids: Sequence[str] | None = None, device_ids: Sequence[str] = (),
                     provenance: str = "measured") -> PerfTable:
    """Check and convert a user's table: every named column present (else the columns there are),
    every option value a number (else the row and value), the measure numeric, > 0 and not constant.
    Row numbers in messages count data rows from 1 (the header is not a row)."""
    import pandas as pd

    options = tuple(dict.fromkeys(o.strip() for o in options if o.strip()))
    if not options:
        raise UsageError(f"{source}: name at least one option column (--options a,b,c); the columns are: "
                         f"{_columns(frame)}")
    wanted = list(options) + ([measure] if measure is not None else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise UsageError(f"{source}: no column {', '.join(repr(c) for c in missing)}; the columns are: "
                         f"{_columns(frame)}")
    if measure is not None and measure in options:
        raise UsageError(f"{source}: {measure!r} is named both as an option and as the measure")
    out = pd.DataFrame(index=range(len(frame)))
    for column in wanted:
        out[column] = _numeric(frame[column], column, source, what="option" if column in options else "measure")
    if measure is not None:
        values = out[measure]
        bad = values[values <= 0]
        if len(bad):
            row = int(bad.index[0])
            raise UsageError(f"{source}: row {row + 1}, measure {measure!r}: {frame[measure].iloc[row]!r}; expected "
                             "a value > 0 (errors are relative to it: MAPE divides by the measure)")
        if len(values) >= 2 and values.nunique() < 2:
            raise UsageError(f"{source}: the measure {measure!r} is constant ({values.iloc[0]:g} in all "
                             f"{len(values)} rows): there is nothing to model")
    row_ids = tuple(str(i) for i in ids) if ids is not None else tuple(str(i + 1) for i in range(len(frame)))
    return PerfTable(frame=out, options=options, measure=measure, source=source, ids=row_ids,
                     device_ids=tuple(device_ids), provenance=provenance)


def _numeric(column: pd.Series, name: str, source: str, *, what: str) -> pd.Series:
    import pandas as pd

    import numpy as np

    converted = pd.to_numeric(column, errors="coerce").astype(float)
    bad = ~np.isfinite(converted.to_numpy())
    if bad.any():
        row = int(bad.nonzero()[0][0])
        value: object = column.iloc[row]
        shown = "an empty cell" if value is None or str(value).strip() in ("", "nan", "None") else repr(value)
        raise UsageError(f"{source}: row {row + 1}, {what} {name!r}: {shown} is not a finite number. Options must "
                         "be numeric: encode a category as numbers (e.g. 0/1 per level) or leave the column out")
    return converted.astype(float)


def _columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    return ", ".join(names[:40]) + (f", ... ({len(names)} in all)" if len(names) > 40 else "")


def require_rows(table: PerfTable, needed: int, what: str) -> None:
    """A clear error when `table` has fewer than `needed` rows for `what`."""
    if table.rows < needed:
        raise UsageError(f"{table.source}: {table.rows} row(s); {what} needs at least {needed}")

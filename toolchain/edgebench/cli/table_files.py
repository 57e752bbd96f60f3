"""Tables users give the analysis commands: CSV or Parquet (`pareto FILE`, `report/effects/sensitivity
--table FILE`); a variant table's list columns (raw samples, run ids) travel in a CSV as JSON text."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

LIST_COLUMNS = ("latency_repeats_ms", "energy_samples_mj", "run_ids")  # JSON lists in a CSV export


def read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    from edgebench.errors import UsageError

    if not path.is_file():
        raise UsageError(f"{path}: expected a .csv or .parquet file, found no file there")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except ImportError as exc:
            raise UsageError(f"{path}: reading Parquet needs pyarrow ({exc}): pip install pyarrow,"
                             " or give a .csv") from None
    raise UsageError(f"{path}: expected a .csv or .parquet file, got {suffix or 'no suffix'!r}")


def read_variant_table(path: Path) -> pd.DataFrame:
    """A variant table from CSV/Parquet; list columns written as JSON text are read back as lists."""
    table = read_table(path)
    for column in LIST_COLUMNS:
        if column in table.columns:
            table[column] = [_json_list(v, row, column, path) for row, v in enumerate(table[column].tolist())]
    return table


def _json_list(cell: Any, row: int, column: str, path: Path) -> Any:
    from edgebench.errors import UsageError

    if not isinstance(cell, str):
        return cell if isinstance(cell, (list, tuple)) or hasattr(cell, "__len__") else []
    try:
        value = json.loads(cell)
    except ValueError:
        raise UsageError(f"{path}: row {row + 1}, column {column!r}: expected a JSON list (e.g. [[12.1, 12.4]]),"
                         f" got {cell[:60]!r}") from None
    if not isinstance(value, list):
        raise UsageError(f"{path}: row {row + 1}, column {column!r}: expected a JSON list, got {cell[:60]!r}")
    return value

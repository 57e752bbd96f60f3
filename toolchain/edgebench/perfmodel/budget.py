"""A target budget: a count of rows (`20`) or a share of the target's configurations (`10%`), rounded up
and at least 2 (a model needs two rows to learn anything)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from edgebench.errors import UsageError

MIN_BUDGET_ROWS = 2
_BUDGET = re.compile(r"^\s*(?:(?P<count>\d+)|(?P<percent>\d+(?:\.\d+)?|\.\d+)\s*%)\s*$")


@dataclass(frozen=True)
class Budget:
    """`count` rows, or `percent` % of the target's rows; `text` as the user wrote it."""
    text: str
    count: int | None = None
    percent: float | None = None

    def rows_of(self, table_rows: int, where: str, *, scored: bool = True) -> int:
        """The budget in rows of a table of `table_rows` rows. With `scored`, at least one row must be left
        over to score on."""
        if self.count is not None:
            rows = self.count
        else:
            assert self.percent is not None
            rows = max(MIN_BUDGET_ROWS, math.ceil(self.percent / 100 * table_rows - 1e-9))
        limit = table_rows - 1 if scored else table_rows
        if rows > limit:
            left = " and leave at least one row to score the model on" if scored else ""
            raise UsageError(f"budget {self.text} is {rows} rows, but {where} has {table_rows} rows: a budget "
                             f"must fit in the target's configurations{left}. Give at most {limit} rows "
                             f"(or {100 * limit / table_rows:.4g}%)")
        return rows


def parse_budget(text: str) -> Budget:
    """`N` (a count, at least 2) or `P%` (0 < P < 100 of the target's configurations)."""
    match = _BUDGET.match(text)
    if match is None:
        raise UsageError(f"budget {text!r}: expected a count of rows (e.g. 20) or a share of the target's "
                         "configurations (e.g. 10%)")
    if match["count"] is not None:
        count = int(match["count"])
        if count < MIN_BUDGET_ROWS:
            raise UsageError(f"budget {text!r}: at least {MIN_BUDGET_ROWS} rows are needed to fit a model")
        return Budget(text=text.strip(), count=count)
    percent = float(match["percent"])
    if not 0 < percent < 100:
        raise UsageError(f"budget {text!r}: a share must be above 0 % and below 100 %")
    return Budget(text=text.strip(), percent=percent)

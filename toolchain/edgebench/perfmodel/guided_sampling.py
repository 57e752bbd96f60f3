"""Guided sampling (GS, seed 5): spend a target budget on the configurations that vary the terms stepwise
regression found influential on the source.

    guided_rows(table, terms, budget, rng) -> GuidedChoice

The rule, as seed 5's `GuidedSampling.py` applies it: start from a default configuration; for each
influential main effect, vary that option over all its levels (the others at default); for each
influential pairwise interaction, take the Cartesian product of both options' levels. Only
configurations that exist in the table count: matched on the influential options, the row nearest the
default on the others (see `guided_configurations`). More than the budget: a random sample of them; fewer: the
rest of the budget drawn at random from the other rows, and said so.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from edgebench.errors import UsageError
from edgebench.perfmodel.stepwise import Term, term_name
from edgebench.perfmodel.table import PerfTable

if TYPE_CHECKING:
    import numpy as np

DEFAULT_REASON = "the default configuration"
TOP_UP_REASON = "drawn at random: guided sampling's configurations did not fill the budget"


@dataclass(frozen=True)
class GuidedChoice:
    """Row positions of the table chosen (in order), why each was chosen, the default configuration (its
    row position), how many configurations GS's rule found in the table, and notes for the user."""
    rows: tuple[int, ...]
    reasons: tuple[str, ...]
    default_row: int
    guided_count: int
    topped_up: int
    notes: tuple[str, ...]


def default_row(table: PerfTable) -> int:
    """The row closest to the most common level of every option: seed 5 starts from the board's default
    configuration; a table does not say which that is, so its most frequent levels stand in for it, and
    the row agreeing with them on the most options (the first such row) is taken, so it exists."""
    import numpy as np

    x = table.x()
    modes = []
    for column in x.T:
        counts = Counter(column.tolist())
        top = max(counts.values())
        modes.append(next(v for v in column.tolist() if counts[v] == top))  # ties: the level seen first
    agreement = (x == np.asarray(modes)).sum(axis=1)
    return int(np.argmax(agreement))


def guided_configurations(table: PerfTable, terms: Sequence[Term]) -> tuple[list[int], list[str], int]:
    """Rows of `table` (one per configuration) that GS's rule asks for, in rule
    order with the reason for each, and the default row."""
    import itertools

    import numpy as np

    x = table.x()
    options = list(table.options)
    unknown = sorted({o for t in terms for o in t} - set(options))
    if unknown:
        raise UsageError(f"guided sampling: the terms name {', '.join(unknown)}, which are not options of "
                         f"{table.source} ({', '.join(options)})")
    levels = {o: sorted(set(x[:, i].tolist())) for i, o in enumerate(options)}
    base_row = default_row(table)
    base = tuple(x[base_row].tolist())
    # A configuration is looked up by the influential options' values; among the rows that have them, the
    # one agreeing with the default on the most other options (the first such). On a full factorial that
    # is the exact configuration seed 5 asks for; on a sparse table (model features that change together,
    # so no row varies FLOPs alone) it is the nearest row that exists.
    influential = [i for i, o in enumerate(options) if any(o in t for t in terms)]
    agreement = (x == np.asarray(base)).sum(axis=1)
    nearest: dict[tuple[float, ...], int] = {}
    for position, row in enumerate(x.tolist()):
        key = tuple(row[i] for i in influential)
        if key not in nearest or agreement[position] > agreement[nearest[key]]:
            nearest[key] = position
    wanted: dict[tuple[float, ...], str] = {base: DEFAULT_REASON}
    for term in terms:
        indexes = [options.index(o) for o in term]
        kind = "main effect" if len(term) == 1 else "interaction"
        for combination in itertools.product(*(levels[o] for o in term)):
            varied = list(base)
            for index, value in zip(indexes, combination):
                varied[index] = value
            wanted.setdefault(tuple(varied), f"varies {term_name(term)} ({kind}): "
                              + ", ".join(f"{o}={_level(v)}" for o, v in zip(term, combination)))
    found = [(nearest.get(tuple(c[i] for i in influential)), why) for c, why in wanted.items()]
    rows = [r for r, _ in found if r is not None]
    reasons = [why for r, why in found if r is not None]
    return rows, reasons, base_row


def guided_rows(table: PerfTable, terms: Sequence[Term], budget: int, rng: np.random.Generator, *,
                exclude: Sequence[int] = ()) -> GuidedChoice:
    """`budget` row positions of `table` chosen by guided sampling for `terms` (rows in `exclude` are
    never chosen)."""
    import numpy as np

    if budget > table.rows - len(set(exclude)):
        raise UsageError(f"{table.source}: a budget of {budget} rows, but only {table.rows - len(set(exclude))} "
                         "rows can be chosen")
    rows, reasons, base_row = guided_configurations(table, terms)
    excluded = set(exclude)
    kept = [(r, why) for r, why in zip(rows, reasons) if r not in excluded]
    guided_count = len(kept)
    notes: list[str] = []
    if guided_count > budget:
        picked = sorted(rng.choice(guided_count, size=budget, replace=False).tolist())
        kept = [kept[i] for i in picked]
        notes.append(f"guided sampling found {guided_count} configurations; a random {budget} of them were used")
    topped_up = 0
    if len(kept) < budget:
        taken = {r for r, _ in kept} | excluded
        others = np.array([r for r in range(table.rows) if r not in taken], dtype=int)
        topped_up = budget - len(kept)
        extra = rng.choice(others, size=topped_up, replace=False).tolist()
        kept += [(int(r), TOP_UP_REASON) for r in extra]
        notes.append(f"guided sampling found {guided_count} configurations; {topped_up} more were drawn at "
                     f"random to fill the budget of {budget}")
    return GuidedChoice(rows=tuple(r for r, _ in kept), reasons=tuple(why for _, why in kept),
                        default_row=base_row, guided_count=guided_count, topped_up=topped_up, notes=tuple(notes))


def _level(value: float) -> str:
    return f"{value:g}"

"""Which `count=...` statistics line is the warm-up loop and which the timed loop.

benchmark_model runs a warm-up loop, then a timed loop, each announced by `Running benchmark for at
least N iterations ...` and closed by one statistics line; the result line then repeats their
averages (`Warmup (avg)` / `Warmup:` and `Inference (avg)` / `no stats:` / `Inference:`). A whole
output therefore orders them; a pasted fragment (e.g. only the last statistics line and the result
line) does not, and the loop headers cannot tell the two loops apart either (both are configurable).
So a statistics line's role is taken from evidence, in this order:

1. its average equals exactly one of the result line's averages (to the printed precision);
2. otherwise its position, when position is known: the output holds the run's set-up lines before
   the first loop, or both loops are present (there are only two, warm-up first);
3. otherwise the role is not decided: the line is kept in `unassigned` and the note says why.

Two lines claiming the same role, or a line whose average contradicts its position's average while
matching nothing, make the text inconsistent: a ParseError.
"""
from __future__ import annotations

from dataclasses import dataclass

from edgebench.errors import ParseError
from edgebench.inspect.benchmark_lines import RunPlan
from edgebench.inspect.benchmark_stats import RunStats

WARMUP, TIMED = "warm-up", "timed"
# Averages are printed with 6 significant digits (C++ streams) or, by full TensorFlow's tool, as
# whole microseconds: equal within one µs or the 6th digit.
_REL = 1e-5
_ABS_US = 1.0


@dataclass(frozen=True)
class Loop:
    plan: RunPlan | None  # of the `Running benchmark for ...` header, when printed
    stats: RunStats | None
    line_number: int  # of the statistics line, or of the header when no statistics followed


@dataclass(frozen=True)
class LoopRoles:
    warmup: Loop | None
    timed: Loop | None
    unassigned: tuple[RunStats, ...]
    note: str | None  # how a role was decided from evidence, or why it could not be


def _equal(a: float, b: float) -> bool:
    return abs(a - b) <= max(_ABS_US, _REL * max(abs(a), abs(b)))


def _matches(stats: RunStats | None, averages: dict[str, float | None]) -> set[str]:
    if stats is None or stats.avg_us is None:
        return set()
    return {role for role, avg in averages.items() if avg is not None and _equal(stats.avg_us, avg)}


def assign_roles(loops: list[Loop], *, starts_at_setup: bool, warmup_avg_us: float | None,
                 inference_avg_us: float | None, with_stats_avg_us: float | None = None,
                 source: str | None = None) -> LoopRoles:
    averages = {WARMUP: warmup_avg_us, TIMED: inference_avg_us}
    positional = starts_at_setup or len(loops) == 2
    roles: dict[str, Loop] = {}
    unassigned: list[RunStats] = []
    notes: list[str] = []
    for i, loop in enumerate(loops):
        by_position = (WARMUP, TIMED)[i] if positional and i < 2 else None
        evidence = _matches(loop.stats, averages)
        avg = loop.stats.avg_us if loop.stats else None
        if len(evidence) == 1:
            role = evidence.pop()
            if role != by_position:
                notes.append(f"the statistics line at line {loop.line_number} (avg={avg:g}) is the {role} "
                             f"loop: its average equals the result line's {role} average")
        elif by_position is not None:
            role = by_position
            own = averages[role]
            if avg is not None and own is not None and not evidence:
                raise ParseError(
                    f"inconsistent benchmark_model output: the {role} loop's statistics line says avg={avg:g} "
                    f"but the result line's {role} average is {own:g}; the text mixes several runs",
                    source=source, line_number=loop.line_number)
        else:
            if loop.stats is not None:
                unassigned.append(loop.stats)
                notes.append(_undecided(loop, evidence, averages, with_stats_avg_us))
            continue
        if role in roles:
            raise ParseError(f"two statistics lines (lines {roles[role].line_number} and {loop.line_number}) "
                             f"are both the {role} loop by their averages; the text mixes several runs",
                             source=source, line_number=loop.line_number)
        roles[role] = loop
    return LoopRoles(roles.get(WARMUP), roles.get(TIMED), tuple(unassigned), "; ".join(notes) or None)


def _undecided(loop: Loop, evidence: set[str], averages: dict[str, float | None],
               with_stats_avg_us: float | None) -> str:
    stats = loop.stats
    where = f"the statistics line at line {loop.line_number}"
    lead = (f"{where} is the only loop in this fragment and nothing before it shows the run's start, "
            "so its position does not say whether it is the warm-up or the timed loop")
    if stats is None or stats.avg_us is None:
        return f"{lead}, and it has no average to compare"
    if evidence:  # equals both averages
        return (f"{lead}; its avg={stats.avg_us:g} equals both the result line's warm-up and timed "
                "averages, so it cannot be told which it is")
    if with_stats_avg_us is not None and _equal(stats.avg_us, with_stats_avg_us):
        return (f"{where} (avg={stats.avg_us:g}) equals the 'with stats' average: it is the run with "
                "per-op statistics, neither the warm-up nor the timed loop")
    if all(v is None for v in averages.values()):
        return f"{lead}, and there is no result line to compare its average with"
    return (f"{lead}; its avg={stats.avg_us:g} equals neither the result line's warm-up average "
            f"({averages[WARMUP]}) nor its timed average ({averages[TIMED]})")

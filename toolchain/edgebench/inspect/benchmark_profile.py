"""benchmark_model's op-profiling report (`--enable_op_profiling=true`).

Layout (tensorflow::StatsCalculator, via tflite's ProfileSummaryFormatter): a section title
("Profiling Info for Benchmark Initialization:", "Operator-wise Profiling Info for Regular Benchmark
Runs:"), optional per-graph headers ("Primary graph profile:", "Subgraph (index: N) profile:",
"Delegate internal:"), then tables that each start with `==== <title> ====` and a header row:
Run Order / Top by Computation Time / Top by Memory Use (one row per node) and Summary by node
type (one row per op type), then `Timings (microseconds): count=...`, `Memory (bytes): ...` and
`N nodes observed`. Cells are tab-separated, or comma-separated with --op_profiling_output_mode=csv.
Columns are located by their header names, so builds with fewer columns still parse.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edgebench.errors import ParseError
from edgebench.inspect.benchmark_stats import (ByteStats, RunStats, byte_stats, number,
                                               parse_stat_fields, run_stats)


@dataclass(frozen=True)
class OpTiming:
    node_type: str
    name: str | None
    start_ms: float | None
    first_ms: float | None
    avg_ms: float | None
    percent: float | None
    cdf_percent: float | None
    mem_kb: float | None
    times_called: int | None


@dataclass(frozen=True)
class OpTypeSummary:
    node_type: str
    count: int | None
    avg_ms: float | None
    avg_percent: float | None
    cdf_percent: float | None
    mem_kb: float | None
    times_called: int | None


@dataclass(frozen=True)
class ProfileSection:
    kind: str  # "initialization" | "regular_runs" | "unlabelled"
    graph: str  # "primary" | "subgraph N" | "delegate_internal"
    run_order: tuple[OpTiming, ...]
    top_by_time: tuple[OpTiming, ...]
    top_by_memory: tuple[OpTiming, ...]
    by_node_type: tuple[OpTypeSummary, ...]
    nodes_executed: int | None
    nodes_observed: int | None
    timings: RunStats | None  # whole-graph time per run, as the profiler saw it
    memory: ByteStats | None


_TABLES = {"Run Order": "run_order", "Top by Computation Time": "top_by_time",
           "Top by Memory Use": "top_by_memory", "Summary by node type": "by_node_type"}
_SECTION = re.compile(r"(?:Operator-wise )?Profiling Info for (.+?):?")
_GRAPH = re.compile(r"(?:Primary graph|Subgraph \(index: (\d+)\)) (?:profile|summary):")
_TITLE = re.compile(r"=+ (.+?) =+")
_SHORT = re.compile(r"(?:Subgraph \(index: (\d+)\) )?(Timings \(microseconds\)|Memory \(bytes\)): (.*)")
_EXECUTED = re.compile(r"Number of nodes executed: (\d+)")
_OBSERVED = re.compile(r"(\d+) nodes observed")
_COLUMNS = {"nodetype": "node_type", "start": "start_ms", "first": "first_ms", "avgms": "avg_ms",
            "%": "percent", "cdf%": "cdf_percent", "memkb": "mem_kb", "timescalled": "times_called",
            "name": "name", "count": "count", "avg%": "avg_percent"}


@dataclass
class _Section:
    kind: str
    graph: str = "primary"
    tables: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _TABLES.values()})
    seen: set[str] = field(default_factory=set)
    nodes_executed: int | None = None
    nodes_observed: int | None = None
    timings: RunStats | None = None
    memory: ByteStats | None = None

    def empty(self) -> bool:
        return not self.seen and self.timings is None and self.nodes_observed is None

    def freeze(self) -> ProfileSection:
        t = self.tables
        return ProfileSection(self.kind, self.graph, tuple(t["run_order"]), tuple(t["top_by_time"]),
                              tuple(t["top_by_memory"]), tuple(t["by_node_type"]),
                              self.nodes_executed, self.nodes_observed, self.timings, self.memory)


class ProfileCollector:
    """Feed it every line; it takes the ones that belong to the profiling report."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._sections: list[_Section] = []
        self._kind = "unlabelled"
        self._table: str | None = None  # attribute name of the table being read
        self._columns: list[str] | None = None
        self._csv = False

    def sections(self) -> tuple[ProfileSection, ...]:
        return tuple(s.freeze() for s in self._sections if not s.empty())

    def _error(self, why: str, n: int, line: str) -> ParseError:
        return ParseError(f"op-profiling table: {why}", source=self.source, line_number=n, line=line)

    def _current(self, graph: str | None = None) -> _Section:
        cur = self._sections[-1] if self._sections else None
        if cur is None or cur.kind != self._kind or (graph is not None and graph != cur.graph):
            if cur is not None and cur.kind == self._kind and cur.empty() and graph is not None:
                cur.graph = graph
                return cur
            cur = _Section(self._kind, graph or "primary")
            self._sections.append(cur)
        return cur

    def feed(self, text: str, raw: str, n: int) -> bool:
        """`text` is the stripped line, `raw` keeps its tabs. True when the line was consumed."""
        if self._table is not None:
            if self._columns is None:
                return self._header(text, raw, n)
            if not text:
                self._table = None
                return True
            if ("\t" in raw) or (self._csv and "," in text and not _TITLE.fullmatch(text)):
                self._row(text, raw, n)
                return True
            self._table = None  # the table ended without a blank line: read this line normally
        m = _SECTION.fullmatch(text)
        if m:
            what = m.group(1).lower()
            self._kind = ("initialization" if "initialization" in what else
                          "regular_runs" if "regular" in what else what.replace(" ", "_"))
            self._current(graph="primary")
            return True
        m = _GRAPH.fullmatch(text)
        if m or text in ("Delegate internal:",):
            graph: str | None = ("delegate_internal" if m is None else
                     "primary" if m.group(1) is None else f"subgraph {m.group(1)}")
            self._current(graph=graph)
            return True
        m = _TITLE.fullmatch(text)
        if m:
            title = m.group(1)
            if title not in _TABLES:
                raise self._error(f"unknown table {title!r} (known: {', '.join(_TABLES)})", n, raw)
            section = self._current()
            if _TABLES[title] in section.seen:  # same table again: a further graph's report
                section = _Section(self._kind, "unnamed graph")
                self._sections.append(section)
            section.seen.add(_TABLES[title])
            self._table, self._columns = _TABLES[title], None
            return True
        m = _SHORT.fullmatch(text)
        if m:
            graph = f"subgraph {m.group(1)}" if m.group(1) else None
            section = self._current(graph) if graph else self._current()
            fields = parse_stat_fields(m.group(3), source=self.source, line_number=n, line=raw)
            if m.group(2).startswith("Timings"):
                section.timings = run_stats(fields)
            else:
                section.memory = byte_stats(fields)
            return True
        m = _EXECUTED.fullmatch(text) or _OBSERVED.fullmatch(text)
        if m:
            section = self._current()
            if text.startswith("Number"):
                section.nodes_executed = int(m.group(1))
            else:
                section.nodes_observed = int(m.group(1))
            return True
        return False

    def _header(self, text: str, raw: str, n: int) -> bool:
        self._csv = "\t" not in raw and "," in text
        cells = [c for c in (text.split(",") if self._csv else raw.split("\t")) if c.strip()]
        names = [re.sub(r"[\s\[\]_]", "", c).lower() for c in cells]
        unknown = [c for c, k in zip(cells, names) if k not in _COLUMNS]
        if not names or unknown or "nodetype" not in names:
            raise self._error(f"expected a header row naming the columns after the table title, "
                              f"got unknown columns {unknown or cells}", n, raw)
        self._columns = [_COLUMNS[k] for k in names]
        return True

    def _row(self, text: str, raw: str, n: int) -> None:
        cols = self._columns or []
        named = bool(cols) and cols[-1] == "name"  # a node name may itself hold the separator
        if self._csv:
            parts = text.split(",", len(cols) - 1) if named else text.split(",")
        else:
            parts = raw.split("\t")
            if parts and parts[0].strip() == "":
                parts = parts[1:]  # rows start with a tab
            if named and len(parts) > len(cols):
                parts = parts[:len(cols) - 1] + ["\t".join(parts[len(cols) - 1:])]
        cells = [c.strip() for c in parts]
        if len(cells) != len(cols):
            raise self._error(f"expected {len(cols)} cells, got {len(cells)}", n, raw)
        values: dict[str, Any] = {}  # a cell: the name (str) or a number
        for col, cell in zip(cols, cells):
            if col in ("node_type", "name"):
                values[col] = cell
                continue
            try:
                values[col] = number(cell.rstrip("%"))
            except ValueError:
                raise self._error(f"column {col} holds {cell!r}, expected a number", n, raw) from None
            if col in ("times_called", "count") and not isinstance(values[col], (int, type(None))):
                raise self._error(f"column {col} holds {cell!r}, expected a whole number", n, raw)
        table = self._sections[-1].tables[self._table or ""]
        if self._table == "by_node_type":
            table.append(OpTypeSummary(values["node_type"], values.get("count"), values.get("avg_ms"),
                                       values.get("avg_percent"), values.get("cdf_percent"),
                                       values.get("mem_kb"), values.get("times_called")))
        else:
            table.append(OpTiming(values["node_type"], values.get("name"),
                                  values.get("start_ms"), values.get("first_ms"), values.get("avg_ms"),
                                  values.get("percent"), values.get("cdf_percent"),
                                  values.get("mem_kb"), values.get("times_called")))

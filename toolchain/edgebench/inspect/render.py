"""Readable terminal summaries of inspect records (rich tables). JSON output lives in the CLI."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from edgebench.inspect.registry import to_jsonable

MISSING = "-"  # shown for an absent figure; never a 0


def _ms(us: float | None) -> str:
    return MISSING if us is None else f"{us / 1000:.3f} ms"


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return MISSING
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"
    return f"{text} {unit}".rstrip()


def _kv(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


def render(console: Console, path: str, fmt: str, record: Any) -> None:
    console.rule(f"{path}  [dim]({fmt})[/dim]")
    if fmt == "tflite":
        render_tflite(console, record)
    elif fmt == "benchmark_model":
        render_benchmark(console, record)
    else:
        render_generic(console, record)


def render_tflite(console: Console, m: Any) -> None:
    rows = [
        ("size", _num(m.size_bytes, "bytes")), ("sha256", m.sha256),
        ("schema version", str(m.schema_version)), ("description", m.description or MISSING),
        ("subgraphs", str(len(m.subgraphs))), ("operators", str(m.operator_count)),
        ("parameters", f"{_num(m.parameter_count)} ({_num(m.parameter_bytes, 'bytes')})"),
        ("FLOPs", _num(m.flops) + (f"  (lower bound: not counted {', '.join(m.flops_not_counted)})"
                                   if m.flops_not_counted else "")),
        ("quantization", f"{m.quantization}  [dim]{m.quantization_detail}[/dim]"),
        ("custom ops", ", ".join(m.custom_ops) or "none"),
        ("needs Flex", "yes" if m.needs_flex else "no"),
        ("min runtime", m.min_runtime_version or MISSING),
    ]
    console.print(_kv("model", rows))
    io = Table(title="inputs and outputs", title_justify="left")
    for col in ("", "name", "dtype", "shape", "signature", "scale", "zero point"):
        io.add_column(col, overflow="fold")
    for kind, tensors in (("in", m.inputs), ("out", m.outputs)):
        for t in tensors:
            q = t.quantization
            io.add_row(kind, t.name, t.dtype, str(list(t.shape)), str(list(t.shape_signature)),
                       MISSING if q is None else _num(q.scale),
                       MISSING if q is None else str(q.zero_point))
    console.print(io)
    ops = Table(title="operators by type", title_justify="left")
    ops.add_column("op type")
    ops.add_column("count", justify="right")
    ops.add_column("FLOPs", justify="right")
    for name, count in m.ops_by_type.items():
        flops = m.flops_by_op_type.get(name)
        ops.add_row(name, str(count), "not counted" if name in m.flops_not_counted else _num(flops))
    console.print(ops)
    for problem in m.problems[:5]:
        console.print(f"[yellow]problem:[/yellow] {problem}")
    if len(m.problems) > 5:
        console.print(f"[yellow]... and {len(m.problems) - 5} more problems (see --json)[/yellow]")


def render_benchmark(console: Console, r: Any) -> None:
    status = (f"[red]FAILED[/red]: {r.failure_reason}" if r.failed else "[green]ok[/green]" if r.has_run_summary
              else "[yellow]no run summary[/yellow] (op-profiling tables only)")
    rows = [("status", status), ("graph", r.graph_path or MISSING),
            ("format", r.summary_format or MISSING), ("threads", _num(r.threads)),
            ("init", _ms(r.init_us)), ("first inference", _ms(r.first_inference_us)),
            ("warm-up avg", f"{_ms(r.warmup_avg_us)}  over {_num(r.warmup_count)} runs"),
            ("inference avg", f"{_ms(r.inference_avg_us)}  over {_num(r.inference_count)} runs")]
    if r.timed is not None and r.timed.count:
        t = r.timed
        rows.append(("timed min / max / std", f"{_ms(t.min_us)} / {_ms(t.max_us)} / {_ms(t.std_us)}"))
    if r.memory_metric:
        rows.append((f"memory ({r.memory_metric})",
                     f"init {_num(r.init_memory_mb, 'MB')}, overall {_num(r.peak_memory_mb, 'MB')}"))
    if r.periodic_peak_memory_mb is not None:
        rows.append(("peak memory (periodic)", _num(r.periodic_peak_memory_mb, "MB")))
    if r.unassigned_stats or r.loops_note:
        rows.append(("loops", r.loops_note or MISSING))
    if r.requested_delegates or r.delegations or r.delegate_verdicts:
        rows.append(("delegates requested", ", ".join(r.requested_delegates) or MISSING))
        rows.append(("NNAPI accelerator", r.nnapi_accelerator or MISSING))
        for d in r.delegations:
            rows.append((f"delegate {d.delegate}", f"{d.nodes_delegated} of {_num(d.nodes_total)} nodes "
                                                   f"({d.hardware or 'hardware unknown'})"))
    if r.accelerator_requested or r.accelerator_used or r.delegations:
        fully = {True: "fully", False: "not fully", None: "fully: not said"}[r.fully_accelerated]
        rows.append(("accelerator", f"requested {r.accelerator_requested or MISSING}, ran on "
                                    f"{r.accelerator_used or 'not said'} ({fully})"
                                    + (f"  [dim]{r.accelerator_note}[/dim]" if r.accelerator_note else "")))
    if r.unrecognized_lines:
        rows.append(("unrecognised lines", str(len(r.unrecognized_lines))))
    console.print(_kv("benchmark_model run", rows))
    profile = r.op_profile()
    if profile is not None and profile.by_node_type:
        table = Table(title="op profile by node type (timed runs)", title_justify="left")
        for col in ("node type", "count", "avg ms", "%"):
            table.add_column(col, justify="left" if col == "node type" else "right")
        for s in profile.by_node_type:
            table.add_row(s.node_type, _num(s.count), _num(s.avg_ms), _num(s.avg_percent))
        console.print(table)
    for err in r.errors:
        console.print(f"[red]error:[/red] {err}")
    for line in r.unrecognized_lines:
        console.print(f"[dim]unrecognised {line}[/dim]")


def render_generic(console: Console, record: Any) -> None:
    """Formats without their own view: top-level fields, nested values summarised."""
    data = to_jsonable(record)
    if not isinstance(data, dict):
        console.print(repr(data))
        return
    rows = []
    for key, value in data.items():
        if isinstance(value, list):
            shown = f"{len(value)} item(s)"
        elif isinstance(value, dict):
            shown = f"{len(value)} field(s)"
        else:
            shown = MISSING if value is None else str(value)
        rows.append((key, shown))
    console.print(_kv(type(record).__name__, rows))

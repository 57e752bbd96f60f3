"""A self-contained HTML report of one push-and-run session: the comparison table and every run's fate."""
from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from edgebench.bench.session import SessionResult
from edgebench.bench.table import fmt_bytes, fmt_input_shapes, fmt_median_ci, fmt_us

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.l{text-align:left}tr.failed{background:#fde8e8}tr.invalid{background:#fff6db}
.sim{color:#a05a00;font-weight:600}small{color:#666}
"""


def _cell(value: object, left: bool = False) -> str:
    return f"<td{' class=l' if left else ''}>{html.escape(str(value))}</td>"


def write_session_report(result: SessionResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in result.summaries:
        ci = fmt_median_ci(s)
        shapes = fmt_input_shapes(s.input_shapes)  # set or defaulted shapes: one model at two shapes is two rows
        notes = ("simulated; " if s.simulated else "") + (f"input shapes: {shapes}; " if shapes else "") + \
            (f"outputs: {s.output_agreement}; " if s.output_agreement else "") + "; ".join(s.notes)
        rows.append("<tr>" + "".join([
            _cell(s.model, True), _cell(s.target, True), _cell(s.config.label(), True),
            _cell(f"{s.repeats_ok}/{s.repeats_total}"), _cell(fmt_us(s.median_us)), _cell(ci),
            _cell(fmt_us(s.p90_us)), _cell(fmt_us(s.p99_us)),
            _cell(f"{s.init_ms:.3g} ms" if s.init_ms is not None else "—"),
            _cell(fmt_bytes(s.peak_rss_kb * 1024 if s.peak_rss_kb is not None else None)),
            _cell(fmt_bytes(s.model_size_bytes)), _cell(notes, True)]) + "</tr>")
    runs = []
    for r in result.records:
        failed_checks = "; ".join(f"{c.name}: {c.reason}" for c in r.checks if c.outcome == "fail")
        agreement = next((f"{c.outcome}: {c.reason}" if c.reason else c.outcome
                          for c in r.checks if c.name == "output_agreement"), "—")
        runs.append(f"<tr class={r.status}>" + "".join([
            _cell(r.run_id, True), _cell(r.model, True), _cell(r.config.label(), True), _cell(r.repeat),
            _cell(r.status, True), _cell(fmt_us(r.latency.median_us) if r.latency else "—"),
            _cell(r.latency.count if r.latency else "—"), _cell(r.provenance.device_kind, True),
            _cell(agreement, True), _cell(r.error or failed_checks or "", True)]) + "</tr>")
    heads = ["model", "target", "config", "ok/runs", "median", "CI of median (level)", "p90", "p99", "init",
             "peak RSS", "size", "notes"]
    run_heads = ["run", "model", "config", "repeat", "status", "median", "inferences", "device kind",
                 "output agreement (figures)", "error / failed checks"]
    body = f"""<!doctype html><html><head><meta charset=utf-8><title>edgebench session {html.escape(result.session)}</title>
<style>{_STYLE}</style></head><body>
<h1>edgebench session {html.escape(result.session)}</h1>
<p><small>written {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; latency measured by the
edgebench harness; CI is a distribution-free interval of the median across repeats (order statistics of the
repeat medians) with the level it truly has: 50 % with 2 repeats, 75 % with 3, at least 95 % from 6.</small></p>
<h2>Comparison</h2>
<table><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr>{''.join(rows)}</table>
<h2>Runs</h2>
<table><tr>{''.join(f'<th>{h}</th>' for h in run_heads)}</tr>{''.join(runs)}</table>
</body></html>
"""
    path.write_text(body, encoding="utf-8")
    return path

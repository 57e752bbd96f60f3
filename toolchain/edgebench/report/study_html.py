"""A self-contained HTML report of one study run: every variant's accuracy, size, latency, energy and
lineage (trained id -> variant -> .tflite sha256 -> run ids), and an accuracy-vs-latency plot
(matplotlib PNG inlined as base64) with the non-dominated variants marked."""
from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any, Mapping, Sequence

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.l{text-align:left}tr.front{background:#e8f6e8}tr.build_failed,tr.run_failed{background:#fde8e8}
code{font-size:12px}.sim{color:#a05a00;font-weight:600}small{color:#666}
"""


def _td(value: object, left: bool = False, raw: bool = False) -> str:
    text = str(value) if raw else html.escape(str(value))
    return f"<td{' class=l' if left else ''}>{text}</td>"


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _bytes(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def accuracy_latency_png(rows: Sequence[Any]) -> bytes | None:
    """The plot as PNG bytes; None when no variant has both an accuracy and a latency."""
    pts = [r for r in rows if r.test_accuracy is not None and r.latency_median_us is not None]
    if not pts:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display on CI or over ssh
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    rest = [r for r in pts if not r.non_dominated]
    front = sorted((r for r in pts if r.non_dominated), key=lambda r: r.latency_median_us)
    ax.scatter([r.latency_median_us for r in rest], [r.test_accuracy for r in rest], c="#888", label="dominated")
    ax.plot([r.latency_median_us for r in front], [r.test_accuracy for r in front], "o-", c="#1a7f37",
            label="non-dominated")
    for r in pts:
        ax.annotate(f"{r.variant} ({r.source})", (r.latency_median_us, r.test_accuracy), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("latency median (µs, smoke protocol)")
    ax.set_ylabel("test accuracy (LiteRT on host)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def write_study_report(rows: Sequence[Any], meta: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = []
    for r in rows:
        sim = ("<span class=sim>simulated</span>" if r.simulated else "real") if r.simulated is not None else "—"
        lineage = (f"<code>{html.escape(r.trained_id[:16])}</code> → {html.escape(r.variant)} → "
                   f"<code>{html.escape(r.tflite_sha256[:16]) if r.tflite_sha256 else '—'}</code> → "
                   + (", ".join(f"<code>{html.escape(i)}</code>" for i in r.run_ids) or "no runs"))
        status = r.status + (f": {r.problem}" if r.problem else "")
        cls = "front" if r.non_dominated else r.status
        body.append(f"<tr class={cls}>" + "".join([
            _td(r.source, True), _td(r.variant, True), _td(_num(r.val_accuracy, ".4f")),
            _td(_num(r.test_accuracy, ".4f")), _td(_bytes(r.size_bytes)), _td(_bytes(r.gzip_size_bytes)),
            _td(_num(r.latency_median_us, ".1f") + (" µs" if r.latency_median_us is not None else "")),
            _td(_num(r.energy_mj_per_inference, ".4g") + (" mJ" if r.energy_mj_per_inference is not None
                                                           else " (not measured)")),
            _td(sim, raw=True), _td("yes" if r.non_dominated else ""), _td(status, True), _td(lineage, True, raw=True),
        ]) + "</tr>")
    png = accuracy_latency_png(rows)
    plot = (f'<img alt="accuracy vs latency" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
            if png else "<p>No variant has both an accuracy and a latency: nothing to plot.</p>")
    hparams = "".join(
        f"<tr>{_td(src, True)}{_td(tid[:16], True)}{_td(hp, True)}</tr>"
        for src, tid, hp in dict.fromkeys((r.source, r.trained_id, repr(r.hyperparameters)) for r in rows))
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = " · ".join(f"{k}: {html.escape(str(v))}" for k, v in meta.items() if v is not None)
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>edgebench study {html.escape(str(meta.get('spec_name')))}</title>
<style>{_STYLE}</style></head><body>
<h1>Study {html.escape(str(meta.get('spec_name')))} ({html.escape(str(meta.get('budget')))})</h1>
<p><small>{facts} · written {when}</small></p>
<h2>Accuracy vs latency</h2>{plot}
<p><small>Non-dominated: no other measured variant has both higher (or equal) accuracy and lower (or equal)
latency. Accuracy is LiteRT on this host on the test split; latency is the median of the smoke protocol's
repeats on the target.</small></p>
<h2>Variants</h2>
<table><tr><th>model</th><th>variant</th><th>val acc (Keras)</th><th>test acc (LiteRT)</th><th>size</th>
<th>gzip size</th><th>latency median</th><th>energy / inference</th><th>data</th><th>non-dominated</th>
<th>status</th><th>lineage: trained → variant → .tflite sha256 → runs</th></tr>
{''.join(body)}</table>
<h2>Trained models</h2><table><tr><th>model</th><th>trained id</th><th>hyperparameters</th></tr>{hparams}</table>
</body></html>"""
    path.write_text(doc, encoding="utf-8")
    return path

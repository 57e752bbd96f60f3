"""The comparison table's interval of the median states the level it truly has, in the record and the table."""
from __future__ import annotations

import pytest
from rich.console import Console

from edgebench.bench.summary import summarize
from edgebench.bench.table import comparison_table
from edgebench.records import Provenance, RunConfig, RunRecord
from edgebench.stats import latency_stats


def _record(repeat: int, median_us: float) -> RunRecord:
    return RunRecord(run_id=f"r{repeat}", run_key="k", session="s", model="m.tflite", model_sha256="ab" * 32,
                     model_size_bytes=1024, target="host", device_id="host", config=RunConfig(1, "cpu"),
                     protocol="standard", repeat=repeat, status="ok", checks=(),
                     provenance=Provenance(device_kind="host"),
                     latency=latency_stats([median_us - 1.0, median_us, median_us + 1.0]))


def _table_text(summaries) -> str:  # type: ignore[no-untyped-def]
    console = Console(width=250, record=True)
    console.print(comparison_table(summaries, title="t"))
    return console.export_text()


def test_three_repeats_give_a_75_percent_interval_and_say_so() -> None:
    (summary,) = summarize([_record(i, m) for i, m in enumerate([1010.0, 990.0, 1005.0])])
    assert summary.median_ci_us == (990.0, 1010.0)
    assert summary.median_ci_level == pytest.approx(0.75)
    assert any("3 repeats give a 75 % interval of the median; 6 reach 95 %" in n for n in summary.notes)
    text = _table_text([summary])
    assert "(75 %)" in text and "95%" not in text


def test_six_repeats_reach_the_target_without_a_note() -> None:
    (summary,) = summarize([_record(i, 1000.0 + i) for i in range(6)])
    assert summary.median_ci_level == pytest.approx(1 - 2 / 64)
    assert not any("interval of the median" in n for n in summary.notes)
    assert "(96.8 %)" in _table_text([summary])


def test_one_repeat_has_no_interval() -> None:
    (summary,) = summarize([_record(0, 1000.0)])
    assert summary.median_ci_us is None and summary.median_ci_level is None


def test_html_report_states_the_level(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from edgebench.bench.session import SessionResult
    from edgebench.report.html import write_session_report

    records = tuple(_record(i, m) for i, m in enumerate([1010.0, 990.0]))
    page = write_session_report(SessionResult("s", records, tuple(summarize(records)), 0),
                                tmp_path / "r.html").read_text()
    assert "(50 %)" in page and "bootstrap" not in page and "95% CI" not in page

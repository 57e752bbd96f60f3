"""`edgebench report --table FILE`: the HTML written where asked (or under the workspace) and the key
tables printed; a bad list cell is an error naming its row and column."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.cli.main import main
from tests.report.synthetic import variant_table

LIST_COLUMNS = ("latency_repeats_ms", "energy_samples_mj", "run_ids")


def _csv(tmp_path: Path, configs: int = 2) -> Path:
    table = variant_table(configs, 1)
    for column in LIST_COLUMNS:
        table[column] = [json.dumps(v) for v in table[column]]
    path = tmp_path / "variants.csv"
    table.to_csv(path, index=False)
    return path


def test_report_of_a_table_file_writes_the_page_and_prints_the_headline(tmp_path, capsys):
    out = tmp_path / "out" / "r.html"
    code = main(["--workspace", str(tmp_path / "ws"), "report", "--table", str(_csv(tmp_path)), "-o", str(out),
                 "--draws", "100"])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.strip().splitlines()[-1] == str(out) and out.is_file()
    assert "efficient variants vs their fp32 baseline" in printed and "frontier probability over 100 draws" in printed
    page = out.read_text()
    assert '<section id="latency">' in page and "latency ECDF" in page  # the JSON lists were read back as samples
    assert "not recorded: a table file holds no battery or thermal samples" in page


def test_report_defaults_to_the_workspace_reports_folder(tmp_path, capsys):
    code = main(["--workspace", str(tmp_path / "ws"), "report", "--table", str(_csv(tmp_path)), "--quiet",
                 "--draws", "50"])
    assert code == 0
    assert capsys.readouterr().out.strip() == str((tmp_path / "ws" / "reports" / "variants.html").resolve())


def test_a_list_cell_that_is_not_json_names_row_and_column(tmp_path, capsys):
    path = _csv(tmp_path)
    text = path.read_text().splitlines()
    text[2] = text[2].replace('"[[', '"[[oops ', 1)
    path.write_text("\n".join(text) + "\n")
    code = main(["report", "--table", str(path), "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert "row 2, column 'latency_repeats_ms': expected a JSON list" in err and not (tmp_path / "r.html").exists()


def test_report_needs_exactly_one_source(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report"])
    assert exit_info.value.code == 2
    assert "one of the arguments --study --session --table is required" in capsys.readouterr().err


def test_traces_of_runs_the_store_does_not_hold_are_not_recorded_with_the_reason(tmp_path):
    from edgebench.report.traces import stored_traces

    traces, note = stored_traces(variant_table(1, 1).head(2), str(tmp_path / "ws"))  # a real, empty results store
    assert traces.empty and note.startswith("not recorded: none of the 6 stored runs has battery or thermal samples")


def test_report_of_a_stored_session_and_of_a_study_by_name(tmp_path, capsys):
    # A real results store written through its API (tests/analyze/variant_store.py): two devices.
    from tests.analyze.variant_store import build_workspace

    build_workspace(tmp_path)
    code = main(["--workspace", str(tmp_path), "report", "--session", "s1", "--quiet", "--draws", "100"])
    page = Path(capsys.readouterr().out.strip())
    assert code == 0 and page == tmp_path / "reports" / "s1.html"
    text = page.read_text()
    assert "Pixel 7" in text and "edgebench-virtual" in text  # one analysis per device
    code = main(["--workspace", str(tmp_path), "report", "--study", "cnn_image", "--quiet", "--draws", "100"])
    assert code == 0 and Path(capsys.readouterr().out.strip()).name == "cnn_image-smoke-0123456789ab.html"
    assert main(["--workspace", str(tmp_path), "report", "--session", "nope"]) == 2
    assert "no session 'nope'" in capsys.readouterr().err

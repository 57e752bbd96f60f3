"""`edgebench perfmodel fit | evaluate | predict` as a user runs them on table files (semicolon CSV with
CRLF line ends, whitespace-separated text), with their errors; made-up tables generated inline."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.cli.main import main
from tests.perfmodel.fit_generated import latency_frame


def semicolon_crlf(path: Path, rows: int = 48) -> Path:
    frame = latency_frame(rows)
    lines = [";".join(frame.columns)] + [";".join(f"{v:g}" for v in row) for row in frame.itertuples(index=False)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def whitespace_text(path: Path, rows: int = 48) -> Path:
    path.write_text("# measured on a made-up device\n" + latency_frame(rows).to_string(index=False) + "\n")
    return path


def test_fit_saves_under_the_workspace_and_predict_flags_outside_rows(workspace: Path, tmp_path: Path, capsys):
    table = semicolon_crlf(tmp_path / "runs.csv")
    assert main(["perfmodel", "fit", str(table), "--measure", "latency_ms", "--options", "threads,size",
                 "--learner", "tree", "--name", "lat", "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["path"] == str(workspace.resolve() / "perfmodels" / "lat")
    assert (meta["rows"], meta["options"], meta["learner"]) == (48, ["threads", "size"], "tree")

    new = tmp_path / "new.csv"
    new.write_bytes(b"threads,size,latency_ms\r\n4,128,1.64\r\n16,128,0.8\r\n2,500,20\r\n8,96,\r\n")  # 8,96: not measured
    out_csv = tmp_path / "predicted.csv"
    assert main(["perfmodel", "predict", "lat", str(new), "-o", str(out_csv)]) == 0
    captured = capsys.readouterr()
    assert "WARNING: 2 of 4 configurations lie OUTSIDE the model's feature space" in captured.err
    assert "row 2: threads = 16 is above the fitted range 1..8" in captured.err
    assert "row 3: size = 500 is above the fitted range 96..224" in captured.err
    assert "OUTSIDE" in captured.out and "MAPE against the measured latency_ms" in captured.out
    assert "over 3 measured rows" in captured.out
    assert main(["perfmodel", "predict", "latency", str(new)]) == 2  # a mistyped name: the names there are
    err = capsys.readouterr().err
    assert "latency: expected a model folder or the name of a model under" in err and "models there are: lat" in err
    written = out_csv.read_text().splitlines()
    assert written[0] == "row_id,threads,size,predicted_latency_ms,measured_latency_ms,provenance,outside_space"
    assert written[1].endswith(",predicted,") and "threads = 16 is above" in written[2]
    assert written[4].startswith("4,8.0,96.0,") and ",,predicted," in written[4]  # blank: not measured


def test_predict_json_prints_records_only_and_still_warns(workspace: Path, tmp_path: Path, capsys):
    table = semicolon_crlf(tmp_path / "runs.csv")
    model_dir = tmp_path / "m"
    assert main(["perfmodel", "fit", str(table), "--measure", "latency_ms", "--options", "threads,size",
                 "--learner", "tree", "-o", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert f"saved tree model of latency_ms to {model_dir}" in out and "cross-validated" in out
    new = tmp_path / "new.txt"
    new.write_text("threads size\n1 96\n32 96\n")  # whitespace-separated, no measure column
    assert main(["perfmodel", "predict", str(model_dir), str(new), "--json"]) == 0
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert [r["outside_space"] for r in records] == [[], ["threads = 32 is above the fitted range 1..8"]]
    assert {r["provenance"] for r in records} == {"predicted"} and records[0]["measured_value"] is None
    assert "WARNING: 1 of 2 configurations lie OUTSIDE" in captured.err


def test_evaluate_prints_each_learner_and_marks_the_best(workspace: Path, tmp_path: Path, capsys):
    table = whitespace_text(tmp_path / "runs.txt")
    args = ["perfmodel", "evaluate", str(table), "--measure", "latency_ms", "--options", "threads,size",
            "--learners", "tree,boosting", "--folds", "3", "--repeats", "2"]
    assert main(args + ["--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["learner"] for r in records] == ["tree", "boosting"]
    assert all(r["folds"] == 3 and r["repeats"] == 2 and r["mape_pct_sd"] is not None for r in records)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 × 3-fold cross-validation over 48 rows" in out and "MAPE % mean ± sd" in out
    assert out.count("best") == 1


@pytest.mark.parametrize(("frame_text", "argv", "message"), [
    ("threads;size;latency_ms\r\n1;96;2\r\n", ["--options", "threads,cores"],
     "no column 'cores'; the columns are: threads, size, latency_ms"),
    ("threads;size;latency_ms\r\n1;96;2\r\nfour;96;2\r\n", ["--options", "threads,size"],
     "row 2, option 'threads': 'four' is not a finite number"),
    ("threads;size;latency_ms\r\n1;96;2\r\n2;96;2\r\n", ["--options", "threads,size"],
     "the measure 'latency_ms' is constant (2 in all 2 rows)"),
    ("threads;size;latency_ms\r\n1;96;2\r\n2;96;3\r\n4;96;4\r\n", ["--options", "threads,size"],
     "3 row(s); cross-validation (2 folds of at least 3 held-out rows) needs at least 6"),
])
def test_bad_tables_give_their_error(workspace: Path, tmp_path: Path, capsys, frame_text, argv, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(frame_text.encode())
    for command in ("fit", "evaluate"):
        assert main(["perfmodel", command, str(path), "--measure", "latency_ms", *argv]) == 2
        assert message in capsys.readouterr().err


def test_predict_with_a_folder_that_is_no_model(workspace: Path, tmp_path: Path, capsys):
    assert main(["perfmodel", "predict", str(tmp_path), str(tmp_path / "x.csv")]) == 2
    assert "expected a model folder with model.json and model.pkl" in capsys.readouterr().err


def test_help_imports_neither_sklearn_nor_tensorflow():
    code = ("import sys\nfrom edgebench.cli.main import main\n"
            "for argv in (['--help'], ['perfmodel', '--help'], ['perfmodel', 'fit', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'tensorflow')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"

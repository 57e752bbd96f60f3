"""push-and-run on the local target with models whose inputs have dynamic dimensions: refused without a
shape (the others still run), run at --input-shape or at the file's placeholder with `default`, and the
shapes the runner ran stored, printed and in --json. Real harness build, real LiteRT, real SQLite."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from edgebench.api import open_store, push_and_run
from edgebench.cli.main import main

from ..conftest import REAL_MODELS

DYNAMIC = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "eb_dynamic_image_conv.tflite"
ADD = REAL_MODELS / "tflm_simple_add_model.tflite"  # only the batch is dynamic: runs at batch 1, said so
QUICK = ("--protocol", "smoke", "--runs", "5", "--min-seconds", "0")


def _json_run(capsys, *argv) -> tuple[int, dict[str, dict], str]:
    code = main(["push-and-run", *map(str, argv), *QUICK, "--json"])
    captured = capsys.readouterr()
    return code, {r["model"]: r for r in json.loads(captured.out)}, captured.err


def test_a_dynamic_model_without_a_shape_is_refused_and_the_others_run(workspace, capsys):
    code, records, err = _json_run(capsys, DYNAMIC, ADD)
    assert code == 1
    refused = records[DYNAMIC.name]
    assert refused["status"] == "failed" and refused["latency_us"] is None and refused["input_shapes"] == []
    assert "input 'image' has signature [-1,-1,-1,3]" in refused["error"]
    assert "--input-shape 'image=<d0>,<d1>,<d2>,3'" in refused["error"] and "--input-shape default" in refused["error"]
    ok = records[ADD.name]
    assert ok["status"] == "ok"
    assert [(s["name"], s["shape"], s["source"]) for s in ok["input_shapes"]] == [
        ("input_1", [1, 128, 128, 1], "batch"), ("input_2", [1, 128, 128, 1], "batch")]
    assert "failed eb_dynamic_image_conv.tflite" in err and "[-1,-1,-1,3]" in err


def test_the_given_shape_runs_and_is_stored_printed_and_in_json(workspace, capsys):
    code, records, _ = _json_run(capsys, DYNAMIC, "--input-shape", "image=1,48,40,3")
    assert code == 0
    (shape,) = records[DYNAMIC.name]["input_shapes"]
    assert shape == {"name": "image", "signature": [-1, -1, -1, 3], "shape": [1, 48, 40, 3], "source": "given"}
    with sqlite3.connect(Path(workspace) / "results.sqlite") as con:
        (stored,) = con.execute("SELECT input_shapes_json FROM runs").fetchone()
    assert json.loads(stored) == [shape]
    # The comparison table (no --json) shows the shape in its own column.
    assert main(["push-and-run", str(DYNAMIC), *QUICK, "--input-shape", "image=1,48,40,3"]) == 0
    out = capsys.readouterr().out
    assert "input shapes" in out and "image=1x48x40x3" in out and "(given)" in out


def test_default_accepts_the_files_placeholder_and_says_so(workspace, capsys):
    code, records, _ = _json_run(capsys, DYNAMIC, "--input-shape", "default")
    assert code == 0
    (shape,) = records[DYNAMIC.name]["input_shapes"]
    assert shape["shape"] == [1, 1, 1, 3] and shape["source"] == "default"


def test_shapes_that_do_not_fit_give_clear_errors(workspace, capsys):
    assert main(["push-and-run", str(DYNAMIC), *QUICK, "--input-shape", "imgae=1,8,8,3"]) == 2
    assert "'imgae' that no model has" in capsys.readouterr().err
    assert main(["push-and-run", str(DYNAMIC), *QUICK, "--input-shape", "image=1,8,8,0"]) == 2
    assert "at least 1, got 0" in capsys.readouterr().err
    code, records, _ = _json_run(capsys, DYNAMIC, "--input-shape", "image=1,8,8")
    assert code == 1 and "has rank 4" in records[DYNAMIC.name]["error"]
    code, records, _ = _json_run(capsys, DYNAMIC, "--input-shape", "image=1,8,8,4")
    assert code == 1 and "fixes it at 3" in records[DYNAMIC.name]["error"]


def test_python_api_takes_a_mapping_and_two_shapes_are_two_runs(workspace):
    first = push_and_run([DYNAMIC], target="local", protocol="smoke", runs=5, min_seconds=0,
                         input_shapes={"image": [1, 16, 16, 3]})
    again = push_and_run([DYNAMIC], target="local", protocol="smoke", runs=5, min_seconds=0,
                         input_shapes={"image": [1, 32, 32, 3]}, resume=first.session)
    assert again.skipped_resumed == 0  # another shape is another run, not one already stored
    store = open_store(workspace)
    try:
        runs = store.runs(first.session)
    finally:
        store.close()
    assert sorted(r.input_shapes[0].dims for r in runs) == [(1, 16, 16, 3), (1, 32, 32, 3)]
    assert len({r.run_key for r in runs}) == 2
    assert len(again.summaries) == 2  # one table row per shape

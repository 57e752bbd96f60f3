"""`edgebench pareto` on a CSV made here: the table, --json, and each error message."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from edgebench.cli.main import main

ROWS = pd.DataFrame({
    "variant": ["fp32", "int8", "pruned", "bad"],
    "latency_ms": [10.0, 4.0, 6.0, 12.0],
    "accuracy": [0.92, 0.90, 0.91, 0.85],
    "latency_samples": ["[9.5, 10.5]", "[3.9, 4.1]", "[5.8, 6.2]", "[11, 13]"],
})


@pytest.fixture()
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "variants.csv"
    ROWS.to_csv(path, index=False)
    return path


def test_table_prints_every_row_and_the_hypervolume(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", str(csv), "--objectives", "latency_ms:min,accuracy:max", "--id-col", "variant"]) == 0
    out = capsys.readouterr().out
    for name in ROWS["variant"]:
        assert sum(line.split("│")[1].strip() == name for line in out.splitlines() if line.count("│") > 2) == 1
    assert "hypervolume_contribution" in out and "frontier_probability" not in out
    assert "against reference (latency_ms=12.8, accuracy=0.843)" in out
    assert "worst value + 10% of its range" in out


def test_json_with_samples(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", str(csv), "--objectives", "latency_ms:min,accuracy:max", "--id-col", "variant",
                 "--samples", "latency_ms=latency_samples", "--draws", "300", "--seed", "5",
                 "--reference", "20,0.8", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["reference"] == [20.0, 0.8] and result["reference_source"] == "given"
    assert result["draws"] == 300 and result["seed"] == 5
    rows = {r["id"]: r for r in result["rows"]}
    assert list(rows) == ["fp32", "int8", "pruned", "bad"]
    assert [rows[n]["front"] for n in rows] == [1, 1, 1, 2]
    assert [rows[n]["on_frontier"] for n in rows] == [True, True, True, False]
    assert rows["bad"]["frontier_probability"] == 0.0 and rows["int8"]["frontier_probability"] == 1.0
    assert rows["int8"]["efficiency_rank"] == 1 and rows["bad"]["efficiency_rank"] == 4
    # staircase against (20, 0.8): int8 [4,20]x[0.80,0.90] + pruned [6,20]x[0.90,0.91] + fp32 [10,20]x[0.91,0.92]
    assert result["hypervolume"] == pytest.approx(16 * 0.10 + 14 * 0.01 + 10 * 0.01)
    # pruned alone covers [6,10]x[0.90,0.91]
    assert rows["pruned"]["hypervolume_contribution"] == pytest.approx(4 * 0.01)


def test_a_long_table_prints_plain_columns(csv: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from edgebench.cli import pareto_output

    monkeypatch.setattr(pareto_output, "RICH_TABLE_MAX_ROWS", 2)
    assert main(["pareto", str(csv), "--objectives", "latency_ms:min,accuracy:max", "--id-col", "variant"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "pareto: latency_ms:min, accuracy:max (4 rows)"
    assert lines[1].split() == ["id", "latency_ms", "accuracy", "on_frontier", "front", "hypervolume_contribution"]
    assert [line.split()[0] for line in lines[2:6]] == ["fp32", "int8", "pruned", "bad"]
    assert lines[5].split()[3:5] == ["False", "2"]
    assert lines[6].startswith("hypervolume ")


@pytest.mark.parametrize("argv, message", [
    (["--objectives", "latency_ms:min,acc:max"], "'acc' is not a column of the table; its columns are: variant,"
                                                 " latency_ms, accuracy, latency_samples"),
    (["--objectives", "latency_ms:min,variant:max"], "row 1, column 'variant': expected a finite number, got 'fp32'"),
    (["--objectives", "latency_ms:fast,accuracy:max"], "expected NAME:min or NAME:max"),
    (["--objectives", "latency_ms:min,accuracy:max", "--samples", "latency_ms=variant"],
     "row 1, column 'variant': expected a non-empty JSON list of numbers"),
    (["--objectives", "latency_ms:min,accuracy:max", "--reference", "1,x"], "expected comma-separated numbers"),
    (["--objectives", "latency_ms:min,accuracy:max", "--id-col", "name"], "--id-col 'name' is not a column"),
])
def test_errors(csv: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", str(csv), *argv]) == 2
    assert message in capsys.readouterr().err


def test_constant_objective_and_too_few_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    constant = tmp_path / "constant.csv"
    ROWS.assign(accuracy=0.9).to_csv(constant, index=False)
    assert main(["pareto", str(constant), "--objectives", "latency_ms:min,accuracy:max"]) == 2
    assert "objective 'accuracy' is constant (0.9 in every row)" in capsys.readouterr().err
    one = tmp_path / "one.csv"
    ROWS.iloc[:1].to_csv(one, index=False)
    assert main(["pareto", str(one), "--objectives", "latency_ms:min,accuracy:max"]) == 2
    assert "expected at least 2 rows to compare, got 1" in capsys.readouterr().err


def test_parquet_and_unknown_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parquet = tmp_path / "variants.parquet"
    ROWS.to_parquet(parquet)
    assert main(["pareto", str(parquet), "--objectives", "latency_ms:min,accuracy:max", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 4
    other = tmp_path / "variants.txt"
    other.write_text("x")
    assert main(["pareto", str(other), "--objectives", "latency_ms:min,accuracy:max"]) == 2
    assert "expected a .csv or .parquet file, got '.txt'" in capsys.readouterr().err


def test_an_empty_id_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ids.csv"
    ROWS.assign(variant=["a", None, "c", "d"]).to_csv(path, index=False)
    assert main(["pareto", str(path), "--objectives", "latency_ms:min,accuracy:max", "--id-col", "variant"]) == 2
    assert "row 2, column 'variant': expected an id, got an empty cell" in capsys.readouterr().err


def test_help_imports_neither_pandas_nor_moocore() -> None:
    code = ("import sys; from edgebench.cli.main import main\n"
            "try:\n    main(['pareto', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'moocore', 'tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out, out


def test_file_with_samples_and_two_objectives_gives_attainment_surfaces(csv: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", str(csv), "--objectives", "latency_ms:min,accuracy:max", "--id-col", "variant",
                 "--samples", "latency_ms=latency_samples", "--draws", "200", "--json"]) == 0
    surfaces = json.loads(capsys.readouterr().out)["attainment"]
    assert {s["level"] for s in surfaces} == {0.1, 0.5, 0.9}
    # int8 reaches 3.9 ms at 0.90 in some draws, 4.1 ms in every draw
    assert {"level": 0.1, "latency_ms": 3.9, "accuracy": 0.9} in surfaces
    assert {"level": 0.9, "latency_ms": 4.1, "accuracy": 0.9} in surfaces


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.analyze.variant_store import build_workspace

    root = tmp_path_factory.mktemp("ws")
    build_workspace(root)
    return root


def test_study_source_prints_each_device_its_samples_and_what_was_left_out(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--workspace", str(workspace), "pareto", "--study", "cnn_image", "--draws", "100",
                 "--objectives", "accuracy:max,latency_ms:min,size_bytes:min"]) == 0
    out = capsys.readouterr().out
    assert "source: study " in out and "cnn_image-smoke-0123456789ab/study.json" in out
    assert "excluded: default/float16: ran on no device (status build_failed)" in out
    assert "device Pixel 7: pareto:" in out and "device edgebench-virtual: pareto:" in out
    assert "excluded: trial 3/fp32 on edgebench-virtual: no value for latency_ms (status run_failed" in out
    assert out.count("fixed (no samples): size_bytes") == 2
    assert "sampled: accuracy (Binomial(accuracy_n, accuracy) / accuracy_n; 3 row(s))" in out


def test_session_source_json_across_devices(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--workspace", str(workspace), "pareto", "--session", "s1", "--draws", "100", "--json",
                 "--objectives", "accuracy:max,latency_ms:min", "--across-devices"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source"] == {"session": "s1"} and result["excluded"] == []
    assert [a["device"] for a in result["analyses"]] == ["Pixel 7", "edgebench-virtual"]
    pixel = result["analyses"][0]
    assert [r["id"] for r in pixel["rows"]] == ["A.tflite on Pixel 7", "B.tflite on Pixel 7", "C.tflite on Pixel 7"]
    assert {s["level"] for s in pixel["attainment"]} == {0.1, 0.5, 0.9}
    assert "latency_ms" in result["sample_models"]
    across = {r["variant"]: r for r in result["across_devices"]["rows"]}
    assert across["C.tflite"]["combined_frontier_probability"] is None
    assert across["C.tflite"]["missing_on"] == "edgebench-virtual"
    assert across["B.tflite"]["efficiency_rank"] == 1
    assert "mean over the devices" in result["across_devices"]["definition"]


@pytest.mark.parametrize("argv, message", [
    (["--objectives", "accuracy:max,latency_ms:min"], "expected one source: FILE, --study NAME_OR_PATH or"
                                                      " --session S; got none"),
    (["--study", "cnn_image", "--session", "s1", "--objectives", "accuracy:max,latency_ms:min"],
     "got --study and --session"),
    (["--study", "cnn_image", "--objectives", "accuracy:max,latency_ms:min", "--samples", "latency_ms=x"],
     "--samples and --id-col are for a FILE"),
    (["--study", "mlp", "--objectives", "accuracy:max,latency_ms:min"],
     "no study 'mlp': not a study.json, not a folder"),
    (["--session", "s9", "--objectives", "accuracy:max,latency_ms:min"], "no session 's9' in"),
    (["--study", "cnn_image", "--objectives", "accuracy:max,energy_mj:min"],
     "no device has an analysis for accuracy:max, energy_mj:min"),
    (["--study", "cnn_image", "--objectives", "accuracy:max,latency_ms:min", "--seed", "-1"],
     "--seed -1: expected a seed of 0 or more"),
    (["--study", "cnn_image", "--objectives", "accuracy:max,latency_ms:min", "--draws", "0"],
     "--draws 0: expected a positive number"),
    (["--study", "cnn_image", "--objectives", "accuracy:max,speed:min"],
     "'speed' is not a numeric column of the variant table"),
])
def test_store_source_errors(workspace: Path, argv: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--workspace", str(workspace), "pareto", *argv]) == 2
    assert message in capsys.readouterr().err


def test_across_devices_needs_a_store_source(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", str(csv), "--objectives", "latency_ms:min,accuracy:max", "--across-devices"]) == 2
    assert "--across-devices needs --study or --session" in capsys.readouterr().err

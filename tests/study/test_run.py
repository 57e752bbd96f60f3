"""`study run` end to end on a tiny spec: variants built, measured locally, reported with lineage."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from tiny import tiny_spec, tiny_toml  # noqa: E402

from edgebench.study.run import run_study, variants_for  # noqa: E402


def test_variants_add_the_quantization_baselines_the_spec_lacks(tmp_path):
    spec = tiny_spec(tmp_path, "cnn_image", variants=["int8", "prune:0.5+int8"])
    assert variants_for(spec) == ["int8", "prune:0.5+int8", "fp32", "dynamic_range", "float16"]


def test_study_run_reports_every_variant_with_latency_and_lineage(tmp_path):
    spec = tiny_spec(tmp_path, "cnn_image", variants=["fp32", "int8", "prune:0.5"])
    result = run_study(spec, workspace=tmp_path / "ws", target="local", runs=20, log=lambda _: None)
    variants = {r.variant for r in result.rows}
    assert variants == {"fp32", "int8", "prune:0.5", "dynamic_range", "float16"}
    assert all(r.status == "measured" for r in result.rows), [(r.variant, r.problem) for r in result.rows]
    assert all(r.latency_median_us > 0 and r.size_bytes > 0 and r.run_ids for r in result.rows)
    assert any(r.non_dominated for r in result.rows)
    assert all(r.energy_mj_per_inference is None for r in result.rows)  # smoke on local measures no energy
    page = result.report_path.read_text()
    assert "data:image/png;base64," in page
    png = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(png)[:4] == b"\x89PNG"
    for r in result.rows:  # lineage: trained id -> variant -> sha256 -> run ids, all in the page
        assert r.trained_id[:16] in page and r.tflite_sha256[:16] in page and r.run_ids[0] in page
    data = json.loads(result.json_path.read_text())
    assert data["session"] == result.session and len(data["rows"]) == len(result.rows)


def test_study_cli_prints_the_report_path(tmp_path, capsys):
    from edgebench.cli.main import main

    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", variants=["fp32"]))
    code = main(["--workspace", str(tmp_path / "ws"), "study", "run", str(spec), "--budget", "smoke",
                 "--trials", "1", "--runs", "20", "--variants", "fp32,float16"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    assert out[-1].endswith("report.html") and Path(out[-1]).is_file()
    measured, total = out[0].split(": ")[1].split(" variant")[0].split("/")
    assert measured == total and int(total) % 2 == 0  # fp32 and float16 of each trained model

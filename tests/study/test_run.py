"""`study run` end to end on a tiny spec: variants built, measured locally, reported with lineage."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from tiny import tiny_spec, tiny_toml  # noqa: E402

from edgebench.study.run import run_study, variant_names  # noqa: E402


def test_variants_add_the_quantization_baselines_the_spec_lacks(tmp_path):
    spec = tiny_spec(tmp_path, "cnn_image", variants=["int8", "prune:0.5+int8"])
    assert variant_names(spec) == ["int8", "prune:0.5+int8", "fp32", "dynamic_range", "float16"]


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
    _assert_store_links_every_run_to_its_training(tmp_path / "ws", result.rows)


def _assert_store_links_every_run_to_its_training(workspace, rows):
    """The results store alone leads from each run to the .tflite, the variant, the trained model and
    the hyperparameters it was trained with."""
    from edgebench.api import open_store
    from edgebench.lineage import trace

    store = open_store(workspace)
    try:
        for row in rows:
            for run_id in row.run_ids:
                chain = trace(store, run_id).chain()
                kinds = [n.kind for n in chain]
                assert chain[0].artifact_id == row.tflite_sha256 and chain[0].label == row.variant
                expected = (["converted", "transformed", "trained", "hyperparameters"] if row.variant.startswith("prune")
                            else ["converted", "trained", "hyperparameters"])
                assert kinds == expected, (row.variant, kinds)
                assert chain[-2].artifact_id == row.trained_id
                assert chain[-1].record["hyperparameters"] == row.hyperparameters
    finally:
        store.close()


def test_study_cli_prints_the_report_path(tmp_path, capsys):
    from edgebench.cli.main import main

    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", variants=["fp32"]).replace('[measure]\n', '[measure]\nenergy = true\n'))
    code = main(["--workspace", str(tmp_path / "ws"), "study", "run", str(spec), "--budget", "smoke",
                 "--trials", "1", "--runs", "20", "--variants", "fp32,float16"])
    captured = capsys.readouterr()
    out = captured.out.strip().splitlines()
    assert code == 0, out
    # The spec asks for energy: study run does not measure it, and says so instead of leaving it implied.
    assert "the spec asks for energy, which is not measured by `study run`" in captured.err
    assert json.loads((Path(out[-1]).parent / "study.json").read_text())["energy"].startswith("not measured")
    assert out[-1].endswith("report.html") and Path(out[-1]).is_file()
    measured, total = out[0].split(": ")[1].split(" variant")[0].split("/")
    assert measured == total and int(total) % 2 == 0  # fp32 and float16 of each trained model
    # `results lineage RUN` traces a run of the study back to the tuning trial that trained it.
    study = json.loads((Path(out[-1]).parent / "study.json").read_text())
    # (trial 0 may draw the defaults: then its model is the default one and both notes are on it)
    trial_row = next((r for r in study["rows"] if r["source"].startswith("trial")), study["rows"][0])
    assert main(["--workspace", str(tmp_path / "ws"), "results", "lineage", trial_row["run_ids"][0]]) == 0
    text = capsys.readouterr().out
    assert trial_row["run_ids"][0] in text and "hyperparameters" in text and "trial 0 of study" in text
    assert main(["--workspace", str(tmp_path / "ws"), "results", "lineage", trial_row["tflite_sha256"][:10],
                 "--json"]) == 0
    traced = json.loads(capsys.readouterr().out)
    assert traced["lineage"]["artifact_id"] == trial_row["tflite_sha256"]
    assert {r["run_id"] for r in traced["runs"]} >= set(trial_row["run_ids"])


def test_variants_for_all_optimizes_every_trial_model_and_default_only_the_default_one(tmp_path, monkeypatch):
    """Tiny: 3 trials, one variant. Trial 1 fails to train: under `all` it is a row with its reason."""
    import edgebench.train.trainer as trainer

    real, calls = trainer.train_model, []

    def second_trial_fails(spec, params, **kwargs):  # tuning's trainer; the study's default training is not patched
        calls.append(params)
        if len(calls) == 2:
            raise ValueError("synthetic failure: out of memory")
        return real(spec, params, **kwargs)

    monkeypatch.setattr(trainer, "train_model", second_trial_fails)
    spec = tiny_spec(tmp_path, "cnn_image", variants=["fp32"])
    common = dict(workspace=tmp_path / "ws", target="local", runs=20, trials=3, variants=["fp32"], log=lambda _: None)

    every = run_study(spec, variants_for="all", **common)
    data = json.loads(every.json_path.read_text())
    assert data["variants_for"] == "all" and data["variants"] == ["fp32"] and len(data["trials"]) == 3
    default_id = next(r.trained_id for r in every.rows if r.source == "default")
    finished = {t["trained_id"] for t in data["trials"] if t["state"] == "COMPLETE"}
    assert finished - {default_id}, "the seed should draw a trial model other than the defaults"
    variant_rows = [r for r in every.rows if r.variant]
    assert sorted(r.trained_id for r in variant_rows) == sorted(finished | {default_id})  # each model once
    assert all(r.variant == "fp32" and r.status == "measured" and r.tflite_sha256 and r.run_ids
               for r in variant_rows), [(r.source, r.status, r.problem) for r in variant_rows]
    for r in variant_rows:  # the trial number and state of the trial that trained each model
        first = min(t["number"] for t in data["trials"] if t["trained_id"] == r.trained_id)
        assert (r.trial, r.trial_state) == (first, "COMPLETE")
        assert r.source == ("default" if r.trained_id == default_id else f"trial {first}")
        assert r.hyperparameters["filters"] in (8, 16) and "epochs" in r.hyperparameters
    failed = [r for r in every.rows if not r.variant]
    assert [(r.source, r.trial, r.trial_state, r.status) for r in failed] == [("trial 1", 1, "FAIL", "trial_failed")]
    assert "out of memory" in failed[0].problem and failed[0].trained_id is None
    assert set(failed[0].hyperparameters) == set(variant_rows[0].hyperparameters)
    assert [row["trial"] for row in data["rows"]] == [r.trial for r in every.rows]

    only_default = run_study(spec, variants_for="default", **common)
    assert [(r.source, r.variant, r.trained_id) for r in only_default.rows] == [("default", "fp32", default_id)]
    assert json.loads(only_default.json_path.read_text())["variants_for"] == "default"


def test_study_cli_passes_variants_for_and_refuses_an_unknown_choice(tmp_path, monkeypatch, capsys):
    import pytest

    import edgebench.study.run as study_run
    from edgebench.cli.main import main

    seen = {}

    def fake_run_study(spec, **kwargs):
        seen.update(kwargs)
        return study_run.StudyRun(spec_name=spec.name, budget=spec.budget, target="local", session=None,
                                  study_name=None, rows=(), report_path=tmp_path / "report.html",
                                  json_path=tmp_path / "study.json")

    monkeypatch.setattr(study_run, "run_study", fake_run_study)
    spec = tmp_path / "tiny.toml"
    spec.write_text(tiny_toml("cnn_image", variants=["fp32"]))
    main(["study", "run", str(spec), "--budget", "smoke", "--variants-for", "all"])
    assert seen["variants_for"] == "all"
    main(["study", "run", str(spec), "--budget", "smoke"])
    assert seen["variants_for"] == "best"
    with pytest.raises(SystemExit) as exit_:
        main(["study", "run", str(spec), "--budget", "smoke", "--variants-for", "every"])
    assert exit_.value.code == 2 and "invalid choice: 'every'" in capsys.readouterr().err

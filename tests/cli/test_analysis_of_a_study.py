"""The analysis commands on a real study, as a user runs them:

    edgebench study run models/cnn_image.toml --budget smoke --target local --variants-for all
    edgebench pareto --study S ... | effects --study S | sensitivity --study S | compare A B | report --study S

The cnn_image smoke budget as shipped (5 short trials, two pruning levels, the README's main job) with every
trial's model optimized and measured on this host; then, as a user would for the variants they care about,
`edgebench profile-battery` of the default model's fp32 and int8 files on a (virtual) phone, whose energy
is `simulated` and whose battery and thermal nodes are sampled. Every analysis reads what was stored, and
the report is opened in headless Chromium. One study (about two minutes) and one battery session (under
a minute) serve every test of this file; the shipped-smoke test of the other specs is
tests/study/test_shipped_smoke_studies.py.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import optuna
import pytest

from edgebench.cli.main import main
from edgebench.report.analysis_html import SECTIONS
from edgebench.spec import load_spec
from tests.profiling.declared_calibration import seed_declared_calibration
from tests.report import browser
from tests.virtual.helpers import cli_lab

MODELS = Path(__file__).resolve().parents[2] / "models"
SPEC = MODELS / "cnn_image.toml"

pytestmark = pytest.mark.slow


# profile-battery's windows cut to seconds (the battery preset's are minutes): enough for a simulated gauge.
# At a fixed rate: back to back, a 2 µs model writes more runner lines than a battery run analyses. At
# 1000 Hz the runner wakes the phone ~1000 times a second, which keeps the SoC out of deep idle (its
# cpu.active, ~41 mW on this profile): ~33 mW above idle, against the gauge's ~9 mW noise on a net of
# 3 s baselines and a 6 s window (2 s baselines drift apart by a few % on a loaded host, and more than 10 %
# fails a run). Screen off, as the protocol sets it on a phone (its ~600 mW add only
# gain error, no signal). No calibration window: the phone's declared gauge units are stored first (as a
# calibrated phone has them); calibrating is tested in tests/profiling/test_profile_battery.py.
SHORT_BATTERY = ["--repeats", "2", "--duration", "6", "--idle", "6", "--warmup", "1", "--cooldown", "none",
                 "--verify-seconds", "1", "--inference-rate", "1000"]


@pytest.fixture(scope="module")
def study(tmp_path_factory, harness_cache):
    workspace = tmp_path_factory.mktemp("analysis") / "ws"
    code = main(["--workspace", str(workspace), "study", "run", str(SPEC), "--budget", "smoke", "--target", "local",
                 "--variants-for", "all"])
    assert code == 0
    (study_json,) = (workspace / "studies").glob("*/study.json")
    rows = json.loads(study_json.read_text())["rows"]
    files = [next(r["tflite_path"] for r in rows if r["source"] == "default" and r["variant"] == v) for v in ("fp32", "int8")]
    with cli_lab(workspace, harness_cache, "--profile", "pixel-8-like", "--battery-level", "80") as (_adb, serials):
        seed_declared_calibration(workspace, serials[0], "pixel-8-like")
        code = main(["--workspace", str(workspace), "profile-battery", *files, "--target", serials[0], *SHORT_BATTERY])
    # On a loaded 2-core host the runner of a 2 µs model can fall behind its 1000 Hz schedule and catch up without
    # sleeping: it then wakes the SoC less often, the simulated SoC reaches deep idle, and the run's power above
    # idle is within one current step of zero (CI: -0.2 mW, 1 run of 4). profile-battery rightly fails that run
    # (net_energy_resolved) and returns 1. Any other failed check fails here, and each file keeps a valid run.
    failed = _failed_checks(workspace)
    assert code == 0 or {name for _, name, _ in failed} == {"net_energy_resolved"}, failed
    assert _models_with_a_valid_battery_run(workspace) == {Path(f).name for f in files}, failed
    return workspace, study_json


def _failed_checks(workspace: Path) -> list[tuple[str, str, str]]:
    """What made profile-battery return 1: the stored runs' failed checks, with their reasons."""
    with closing(sqlite3.connect(workspace / "results.sqlite")) as db:
        return db.execute("SELECT run_id, name, reason FROM checks WHERE outcome = 'fail' AND NOT advisory").fetchall()


def _models_with_a_valid_battery_run(workspace: Path) -> set[str]:
    with closing(sqlite3.connect(workspace / "results.sqlite")) as db:
        return {model for (model,) in db.execute(
            "SELECT DISTINCT r.model FROM runs r JOIN energy e ON e.run_id = r.run_id"
            " WHERE r.status = 'ok' AND e.energy_source = 'simulated'")}


def _json(capsys, argv):
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_every_trial_model_is_optimized_measured_and_traced_to_its_hyperparameters(study, capsys):
    workspace, study_json = study
    data = json.loads(study_json.read_text())
    spec = load_spec(SPEC, "smoke")
    assert data["variants_for"] == "all"
    tuned = optuna.load_study(study_name=data["optuna_study"], storage=f"sqlite:///{workspace / 'optuna.sqlite'}")
    assert sum(t.state.name == "COMPLETE" for t in tuned.trials) == spec.tuning.trials
    rows = data["rows"]
    for r in rows:
        assert r["status"] == "measured" or r["problem"], r
    models = {r["trained_id"] for r in rows if r["trained_id"]}
    assert len(models) >= 4, "sensitivity needs 4 or more trained models"
    measured = [r for r in rows if r["status"] == "measured"]
    for model in models:  # every trained model got both pruning levels and the baselines
        variants = {r["variant"] for r in measured if r["trained_id"] == model}
        assert {"fp32", "int8", "prune:0.5", "prune:0.8", "dynamic_range", "float16"} <= variants, (model, variants)
        # litert-quantizer variants (of the fp32 .tflite) beside the TF-MOT/converter ones
        assert {"lq:int8_dynamic", "lq:int4_weight_only"} <= variants, (model, variants)
    assert all(r["latency_median_us"] > 0 and r["test_accuracy"] is not None for r in measured)
    run = measured[-1]
    assert main(["--workspace", str(workspace), "results", "lineage", run["run_ids"][0], "--json"]) == 0
    node = json.loads(capsys.readouterr().out)["lineage"]
    while node["parents"]:
        node = node["parents"][0]
    assert node["kind"] == "hyperparameters" and node["record"]["hyperparameters"] == run["hyperparameters"]
    lq = next(r for r in measured if r["variant"] == "lq:int4_weight_only")  # lq variant -> fp32 .tflite -> trained
    assert main(["--workspace", str(workspace), "results", "lineage", lq["run_ids"][0], "--json"]) == 0
    chain = [json.loads(capsys.readouterr().out)["lineage"]]
    while chain[-1]["parents"]:
        chain.append(chain[-1]["parents"][0])
    kinds = [(n["kind"], n["record"].get("variant")) for n in chain if n["kind"] != "run"]
    assert kinds[:3] == [("converted", "lq:int4_weight_only"), ("converted", "fp32"), ("trained", None)], kinds
    assert chain[-2]["artifact_id"] == lq["trained_id"] and chain[-1]["kind"] == "hyperparameters"


def test_pareto_of_the_study_is_the_brute_force_frontier_with_frontier_probability(study, capsys):
    workspace, study_json = study
    code, out = _json(capsys, ["--workspace", str(workspace), "pareto", "--study", str(study_json.parent),
                               "--objectives", "accuracy:max,latency_ms:min,size_bytes:min", "--json"])
    assert code == 0
    # One analysis per device: this host (every variant) and the phone (the two profiled files).
    assert len(out["analyses"]) == 2
    analysis = max(out["analyses"], key=lambda a: len(a["rows"]))
    rows = analysis["rows"]
    assert len(rows) >= 30
    points = np.array([[-r["accuracy"], r["latency_ms"], r["size_bytes"]] for r in rows])
    brute = [not any(np.all(q <= p) and np.any(q < p) for q in points) for p in points]
    assert [r["on_frontier"] for r in rows] == brute
    # Samples from the store: the latency median's bootstrap and the accuracy's binomial model.
    assert all(0.0 <= r["frontier_probability"] <= 1.0 for r in rows)
    by_rank = sorted(rows, key=lambda r: r["efficiency_rank"])  # ranked by frontier probability, best first
    assert all(a["frontier_probability"] >= b["frontier_probability"] for a, b in zip(by_rank, by_rank[1:]))
    assert {s["objective"] for s in analysis["samples"] if s["model"]} == {"accuracy", "latency_ms"}
    code, out = _json(capsys, ["--workspace", str(workspace), "pareto", "--study", str(study_json.parent),
                               "--objectives", "accuracy:max,latency_ms:min", "--json"])
    levels = {round(p["level"], 2) for p in max(out["analyses"], key=lambda a: len(a["rows"]))["attainment"]}
    assert code == 0 and levels == {0.1, 0.5, 0.9}


def test_effects_and_sensitivity_give_their_tables_from_the_study(study, capsys):
    workspace, study_json = study
    code, effects = _json(capsys, ["--workspace", str(workspace), "effects", "--study", str(study_json), "--json"])
    assert code == 0
    # Kendall tau between the fp32 ranking of the trained models and each variant's, for both pruning levels.
    ranked = {(r["variant"], r["property"]) for r in effects["rank_changes"]}
    assert {("prune:0.5", "latency_ms"), ("prune:0.8", "accuracy"), ("int8", "latency_ms")} <= ranked
    assert {r["variant"] for r in effects["spread"]} >= {"fp32", "prune:0.8"}
    code, sensitivity = _json(capsys, ["--workspace", str(workspace), "sensitivity", "--study", str(study_json),
                                       "--json"])
    assert code == 0
    levels = {r["variant"] for r in sensitivity["distances"]}
    assert {"prune:0.5", "prune:0.8"} <= levels
    assert sensitivity["influence_changes"], "no influence change rows"


def test_compare_refuses_verdicts_on_smoke_and_shortened_runs_and_says_why(study, capsys):
    workspace, study_json = study
    data = json.loads(study_json.read_text())
    fp32, int8 = (Path(next(r["tflite_path"] for r in data["rows"] if r["variant"] == v and r["source"] == "default")).name
                  for v in ("fp32", "int8"))
    code, out = _json(capsys, ["--workspace", str(workspace), "compare", fp32, int8, "--session", data["session"],
                               "--json"])
    assert code == 1 and "smoke" in out["refused"]
    # The battery session (the latest) ran both files with windows of seconds, not the preset's minutes:
    # shortened, so no verdict either (the verdicts themselves: tests/cli/test_compare_cmd.py).
    code, out = _json(capsys, ["--workspace", str(workspace), "compare", fp32, int8, "--metric", "energy", "--json"])
    assert code == 1 and "shortened" in out["refused"], out


def test_a_runtime_policy_from_the_study_measured_on_the_phone_exports_checks_and_simulates(study, capsys, tmp_path):
    import shutil

    from edgebench.store import ResultsStore

    workspace, study_json = study
    store = ResultsStore(workspace / "results.sqlite")
    try:
        battery = [r for r in store.runs() if r.provenance.energy_source == "simulated" and r.status == "ok"]
    finally:
        store.close()
    assert battery, "the profile-battery runs of the phone"
    policy = tmp_path / "policy.json"
    # The phone's own measurements of the study's default fp32 and int8 files: accuracy from the study,
    # latency and (simulated) energy from profile-battery on the phone.
    assert main(["--workspace", str(workspace), "policy", "export", "--study", str(study_json), "--device",
                 battery[0].device_id, "-o", str(policy), "--latency-budget-ms", "1000"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    exported = json.loads(policy.read_text())
    variants = {v["file"]: v for v in exported["variants"]}
    assert len(variants) == 2 and all(v["accuracy"] is not None for v in variants.values())
    assert {v["energy_mj"]["source"] for v in variants.values()} == {"simulated"}
    assert exported["decision_table"], "a decision table an app applies"
    models = tmp_path / "models"
    models.mkdir()
    data = json.loads(study_json.read_text())
    for row in data["rows"]:
        if row["source"] == "default" and row["variant"] in ("fp32", "int8"):
            shutil.copy(row["tflite_path"], models / Path(row["tflite_path"]).name)
    code, checked = _json(capsys, ["policy", "check", str(policy), str(models), "--json"])
    assert code == 0 and checked["ok"]
    code, simulation = _json(capsys, ["--workspace", str(workspace), "policy", "simulate", str(policy), "--trace",
                                      f"run:{battery[0].run_id}", "--json"])
    assert code == 0 and "simulated" in json.dumps(simulation)


def test_the_report_of_the_study_fills_every_section_and_renders_in_chromium(study, capsys, tmp_path):
    workspace, study_json = study
    page = tmp_path / "study.html"
    assert main(["--workspace", str(workspace), "report", "--study", str(study_json.parent), "-o", str(page)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(page)
    text = page.read_text()
    assert "frontier probability over 1000 draws" in text and "10/50/90 % empirical attainment" in text
    # The page the study wrote itself is the same report of the same rows.
    own = (study_json.parent / "report.html").read_text()
    assert all(f'<section id="{name}">' in own for name in SECTIONS)
    if browser.CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package `chromium`, in .ci/apt-packages.txt)")
    found = browser.probe(page, tmp_path)
    assert list(found.sections) == list(SECTIONS)
    assert all(length > 20 for length in found.sections.values()), found.sections
    # Pareto and latency per device, energy, traces, rank agreement: every figure decodes in the browser.
    assert len(found.images) >= 6 and all(i["complete"] and i["width"] and i["height"] for i in found.images)
    for name in ("energy", "traces"):
        section = text.split(f'<section id="{name}">')[1].split("</section>")[0]
        assert "data:image/png;base64," in section and "not recorded" not in section.lower(), name
    assert "simulated" in text.split('<section id="energy">')[1].split("</section>")[0]
    assert found.page_requests == []

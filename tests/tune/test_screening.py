"""Tuning with a performance model: objectives parsing, energy refused where no device measures it, the
"near the measured front" rule, and studies where predicted trials are marked and never reported as best."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from tiny import tiny_spec  # noqa: E402

import edgebench.train.trainer as trainer  # noqa: E402
from edgebench.errors import UsageError  # noqa: E402
from edgebench.train import ArtifactStore  # noqa: E402
from edgebench.tune import run_tuning  # noqa: E402
from edgebench.tune.objectives import parse_figure_source, parse_objectives  # noqa: E402
from edgebench.tune.screening import near_front  # noqa: E402


@pytest.mark.parametrize(("text", "names", "key"), [
    ("accuracy", ("accuracy",), "accuracy"),
    ("multi", ("accuracy", "size", "latency"), "multi"),
    ("accuracy,size,latency", ("accuracy", "size", "latency"), "multi"),
    ("accuracy, latency,energy,size", ("accuracy", "latency", "energy", "size"), "accuracy+latency+energy+size"),
    ("latency,accuracy", ("latency", "accuracy"), "latency+accuracy"),
])
def test_objectives_keep_the_listed_order_and_name_their_study(text, names, key):
    chosen = parse_objectives(text)
    assert chosen.names == names and chosen.key == key
    assert chosen.directions == ["maximize" if n == "accuracy" else "minimize" for n in names]


@pytest.mark.parametrize(("text", "message"), [
    ("latency,size", "accuracy is missing"),
    ("accuracy,speed", "unknown objective 'speed'"),
    ("accuracy,latency,latency", "latency named twice"),
    ("accuracy,,size", "an empty name"),
    ("", "an empty name"),
])
def test_bad_objectives_say_what_is_allowed(text, message):
    with pytest.raises(UsageError, match=message) as caught:
        parse_objectives(text)
    assert "accuracy, latency, energy, size" in str(caught.value) or "accuracy," in str(caught.value)


def test_a_figure_source_is_device_or_an_existing_model_folder(tmp_path):
    assert parse_figure_source(None, "--latency-from").origin == "device"
    assert parse_figure_source(f"model:{tmp_path}", "--latency-from").model_path == tmp_path
    with pytest.raises(UsageError, match="no saved performance model at"):
        parse_figure_source(f"model:{tmp_path / 'missing'}", "--latency-from")
    with pytest.raises(UsageError, match="expected device .* or model:PATH"):
        parse_figure_source("phone", "--energy-from")


def test_energy_from_a_device_and_a_model_for_no_objective_are_refused_before_anything_trains(tmp_path, monkeypatch):
    from edgebench.cli.main import main

    monkeypatch.setattr(trainer, "train_model", lambda *a, **k: pytest.fail("trained before refusing"))
    spec = tiny_spec(tmp_path, "cnn_image")
    with pytest.raises(UsageError, match="this host has no energy meter.*--energy-from model:PATH"):
        run_tuning(spec, store=ArtifactStore(tmp_path / "a"), workspace=tmp_path, objectives="accuracy,energy",
                   target="local", log=lambda _: None)
    with pytest.raises(UsageError, match="records no energy.*--energy-from model:PATH"):
        run_tuning(spec, store=ArtifactStore(tmp_path / "a"), workspace=tmp_path, objectives="accuracy,energy",
                   target="SERIAL123", log=lambda _: None)
    code = main(["--workspace", str(tmp_path), "tune", str(spec.source), "--objectives", "accuracy,energy"])
    assert code != 0
    with pytest.raises(UsageError, match="latency is not among --objectives accuracy,size; add it"):
        run_tuning(spec, store=ArtifactStore(tmp_path / "a"), workspace=tmp_path, objectives="accuracy,size",
                   latency_from=f"model:{tmp_path}", log=lambda _: None)


def test_the_error_margin_keeps_a_trial_near_the_front():
    directions = ["maximize", "minimize"]
    measured = [(0.8, 100.0), (0.6, 50.0)]
    # 0.7 accuracy at a predicted 120 µs: dominated by (0.8, 100) exactly, not with a 20 % margin (96 µs).
    assert near_front((0.7, 120.0), measured, directions, [0.0, 0.0]) == (False, 0)
    assert near_front((0.7, 120.0), measured, directions, [0.0, 0.2]) == (True, None)
    assert near_front((0.5, 60.0), measured, directions, [0.0, 0.1]) == (False, 1)
    assert near_front((0.9, 1e9), measured, directions, [0.0, 0.1]) == (True, None)  # most accurate: measured
    assert near_front((0.1, 1e9), [], directions, [0.0, 0.1]) == (True, None)  # nothing measured yet


def saved_model(folder, size_range, latency_us):
    """A latency model saved by perfmodel.saved, fitted on a generated table of .tflite size_bytes ->
    latency_median_us (latency_us, rising 1 % across the range): its feature space is that size range."""
    import numpy as np
    import pandas as pd

    from edgebench.perfmodel.saved import fit_model, save_model
    from edgebench.perfmodel.table import table_from_frame

    sizes = np.linspace(*size_range, 12)
    frame = pd.DataFrame({"size_bytes": sizes, "latency_median_us": latency_us * (1 + sizes / size_range[1] / 100)})
    table = table_from_frame(frame, options=["size_bytes"], measure="latency_median_us", source="generated")
    return save_model(fit_model(table, "tree", seed=0), folder).path


def deterministic_accuracy(monkeypatch):
    """The real trainer (its models are converted and timed), with an accuracy known in advance: more
    epochs help, more filters hurt — so which trials a measured one dominates is fixed."""
    real = trainer.train_model

    def train(spec, params, **kw):
        trained = real(spec, params, **kw)
        hp = trained.hyperparameters
        return dataclasses.replace(trained, val_accuracy=0.5 + hp["epochs"] / 10 - hp["filters"] / 100)

    monkeypatch.setattr(trainer, "train_model", train)


def _tune_with_model(tmp_path, model, trials):
    lines: list[str] = []
    spec = tiny_spec(tmp_path, "cnn_image")
    result = run_tuning(spec, store=ArtifactStore(tmp_path / "artifacts"), workspace=tmp_path,
                        objectives="accuracy,latency", sampler="random", trials=trials, top_k=8, runs=20,
                        latency_from=f"model:{model}", log=lines.append)
    return result, lines


def test_a_model_screens_trials_predicted_ones_are_marked_and_never_best(tmp_path, monkeypatch):
    from edgebench.cli.tune_cmd import result_json

    deterministic_accuracy(monkeypatch)
    # Predicts 50 ms for any of these models: slower than the measured ones, so a trial no more accurate
    # than a measured trial is dominated even with the model's CV error as margin; only the others are measured.
    result, lines = _tune_with_model(tmp_path, saved_model(tmp_path / "m", (1.0, 1e8), 50_000.0), trials=4)
    done = [t for t in result.trials if t.state == "COMPLETE"]
    assert len(done) == 4, [t.failure for t in result.trials]
    measured = [t for t in done if t.measured]
    predicted = [t for t in done if not t.measured]
    assert measured and len(measured) < len(done)
    assert measured[0].number == 0  # nothing measured yet: the first trial is near the front
    for t in predicted:
        assert t.sources == ("measured", "predicted") and t.attrs["latency_source"] == "predicted"
        assert t.values[1] == pytest.approx(t.attrs["latency_predicted_us"]) and "run_ids" not in t.attrs
        assert "dominates it" in t.attrs["screening"]
    for t in measured:
        assert t.attrs["latency_source"] == "measured" and t.attrs["run_ids"] and t.values[1] < 50_000
    assert result.best and {t.number for t in result.best} <= {t.number for t in measured}
    assert any("µs predicted" in line and "predicted only" in line for line in lines)
    shown = result_json(result)
    sources = {v["source"] for t in shown["trials"] for v in t["values"] if v["objective"] == "latency"}
    assert sources == {"measured", "predicted"} and json.dumps(shown)
    assert "accuracy+latency" in result.study_name


def test_trials_outside_the_models_feature_space_are_measured_with_the_reason(tmp_path, monkeypatch):
    # Fitted on files of 1..100 bytes: every real .tflite is above that range.
    result, lines = _tune_with_model(tmp_path, saved_model(tmp_path / "m", (1.0, 100.0), 50_000.0), trials=2)
    done = [t for t in result.trials if t.state == "COMPLETE"]
    assert len(done) == 2, [t.failure for t in result.trials]
    assert all(t.measured and t.attrs["run_ids"] for t in done)
    assert all("outside the latency model's feature space" in t.attrs["screening"] for t in done)
    assert sum("size_bytes" in line and "above the fitted range 1..100" in line for line in lines) == 2


def _screened_result():
    from edgebench.tune import TrialSummary, TuningResult

    def trial(number, latency, source):
        return TrialSummary(number=number, state="COMPLETE", params={"filters": 8}, values=(0.8, latency),
                            trained_id=f"t{number}", failure=None, attrs={"latency_source": source},
                            sources=("measured", source))

    trials = (trial(0, 95.5, "measured"), trial(1, 4321.0, "predicted"))
    return TuningResult(study_name="s-accuracy+latency-tpe", storage="sqlite:///x", objectives="accuracy+latency",
                        sampler="tpe", trials=trials, best=trials[:1], ran_now=2,
                        objective_names=("accuracy", "latency"), figure_sources=(("latency", "model:m"),))


def test_tune_output_marks_each_predicted_number(tmp_path, monkeypatch, capsys):
    import edgebench.tune as tune
    from edgebench.cli.main import main

    monkeypatch.setattr(tune, "run_tuning", lambda *a, **k: _screened_result())
    spec = tiny_spec(tmp_path, "cnn_image")
    assert main(["--workspace", str(tmp_path), "tune", str(spec.source), "--objectives", "accuracy,latency"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("#0" in line and "95.5 µs]" in line for line in lines)
    assert any("#1" in line and "4321 µs predicted]" in line for line in lines)
    assert any("latency measured on the device for 1 of 2" in line for line in lines)
    assert main(["--workspace", str(tmp_path), "tune", str(spec.source), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [v["source"] for v in shown["trials"][1]["values"]] == ["measured", "predicted"]


def test_the_front_says_which_of_its_figures_are_predicted():
    from edgebench.tune.objectives import front_label

    assert front_label(("accuracy",), ()) == "best"
    assert front_label(("accuracy", "size"), ()) == "non-dominated"
    assert front_label(("accuracy", "latency"), (("latency", "model:m"),)) == \
        "non-dominated (latency measured on the device)"
    # Energy is predicted on every trial: a front of accuracy and energy must not call itself measured.
    assert front_label(("accuracy", "energy"), (("energy", "model:e"),)) == "non-dominated (energy predicted by model:e)"


def test_study_json_keeps_each_trials_value_sources():
    from edgebench.study.run import _trial_summary

    summary = _trial_summary(_screened_result().trials[1])
    assert summary["values"] == [0.8, 4321.0] and summary["value_sources"] == ["measured", "predicted"]


def test_the_study_report_says_how_many_tuning_trials_were_predicted():
    from edgebench.report.study_html import STUDY_FACTS
    from edgebench.study.run import tune_figures_fact

    fact = tune_figures_fact(_screened_result())
    assert fact.startswith("latency from model:m: 1 of 2 complete trial(s) have predicted figures")
    assert "tune_figures" in STUDY_FACTS
    assert tune_figures_fact(dataclasses.replace(_screened_result(), figure_sources=(("latency", "device"),))) is None

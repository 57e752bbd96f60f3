"""`study run` progress: each stage reports the model, candidate, variant and device it works on, and the
CLI shows them on rich progress bars."""
from __future__ import annotations

import io

from rich.console import Console

from edgebench.cli.progress import StageProgress
from edgebench.study.run import StudyStep, run_study
from tests.train.tiny import tiny_spec


def test_study_steps_name_model_candidate_variant_stage_and_device(tmp_path):
    spec = tiny_spec(tmp_path, "cnn_image", variants=["fp32"])
    steps: list[StudyStep] = []
    result = run_study(spec, workspace=tmp_path / "ws", target="local", runs=20, trials=0,
                       variants=["fp32", "int8"], log=lambda _: None, on_step=steps.append)
    assert all(r.status == "measured" for r in result.rows), [(r.variant, r.problem) for r in result.rows]

    stages = [s.stage for s in steps]
    assert stages == sorted(stages, key=["train", "build", "measure"].index)  # in pipeline order
    assert steps[0] == StudyStep("train", "tiny_cnn_image", "default", "", "this host", "fit the spec's defaults", 0, 1)
    builds = [s for s in steps if s.stage == "build" and s.variant]
    assert [(s.candidate, s.variant, s.device, s.done, s.total) for s in builds] == [
        ("default", "fp32", "this host", 0, 2), ("default", "int8", "this host", 1, 2)]
    measures = [s for s in steps if s.stage == "measure"]
    assert {s.variant for s in measures} == {"fp32", "int8"}
    assert {(s.model, s.candidate, s.device) for s in measures} == {("tiny_cnn_image", "default", "local")}
    assert any("repeat 1: " in s.detail and "cpu/1t" in s.detail for s in measures)
    assert (measures[-1].done, measures[-1].total) == (2, 2)


def test_the_bars_show_what_each_stage_works_on():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    with StageProgress(console) as progress:
        progress.log("study cnn_image: building int8 of trial 2 (f29231c67cba)")
        progress.step(StudyStep("train", "cnn_image", "default", "", "this host", "done", 1, 1))
        progress.step(StudyStep("build", "cnn_image", "trial 2", "int8", "this host",
                                "optimize, convert, validate with LiteRT", 3, 14))
        progress.step(StudyStep("measure", "cnn_image", "trial 2", "int8", "R58M123ABC",
                                "cpu/1t, repeat 1: running", 5, 21))
        progress.progress.refresh()
        shown = out.getvalue()
    assert "study cnn_image: building int8 of trial 2 (f29231c67cba)" in shown
    assert "build   cnn_image · trial 2 · int8 · this host · optimize, convert, validate with LiteRT" in shown
    assert "measure cnn_image · trial 2 · int8 · R58M123ABC · cpu/1t, repeat 1: running" in shown
    assert "3/14" in shown and "5/21" in shown

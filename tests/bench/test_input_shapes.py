"""Input shapes on the host: --input-shape parsing, each model's plan from its own signatures, the
refusal of dynamic dimensions without a shape, and the shapes recorded being the ones that ran."""
from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from edgebench.bench.input_shapes import (ModelInput, ShapeRefused, model_inputs, parse_request, plan_session_shapes,
                                          plan_shapes, shapes_ran)
from edgebench.bench.plan import ModelFile, run_key
from edgebench.bench.summary import summarize
from edgebench.bench.table import comparison_table
from edgebench.errors import UsageError
from edgebench.protocols import resolve
from edgebench.records import InputShape, LatencyStats, Provenance, RunConfig, RunRecord

from ..conftest import REAL_MODELS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"
DYNAMIC = FIXTURES / "eb_dynamic_image_conv.tflite"
ADD = REAL_MODELS / "tflm_simple_add_model.tflite"
IMAGE = ModelInput("image", "image", (-1, -1, -1, 3), (1, 1, 1, 3))


def test_inputs_are_read_from_the_file_with_signature_and_tensor_names():
    assert model_inputs(DYNAMIC) == (IMAGE,)
    assert model_inputs(ADD) == (ModelInput("input_1", "serving_default_input_1:0", (-1, 128, 128, 1), (1, 128, 128, 1)),
                                 ModelInput("input_2", "serving_default_input_2:0", (-1, 128, 128, 1), (1, 128, 128, 1)))


def test_flag_values_and_mappings_parse_to_one_request():
    req = parse_request(["image=1,64,64,3", "serving:0=2", "default"])
    assert req.shapes == (("image", (1, 64, 64, 3)), ("serving:0", (2,))) and req.accept_default
    assert parse_request({"image": [1, 8, 8, 3]}).shapes == (("image", (1, 8, 8, 3)),)
    assert parse_request("default").accept_default and parse_request(None).shapes == ()
    assert parse_request(["a=b=1,2"]).shapes == (("a=b", (1, 2)),)  # split at the last '='


@pytest.mark.parametrize("value, needle", [
    (["image"], "takes NAME=D0,D1"),
    (["=1,2"], "takes NAME=D0,D1"),
    (["image=1,x,3"], "whole numbers"),
    (["image=1,0,3"], "at least 1, got 0"),
    (["image=1,-1,3"], "at least 1, got -1"),
    (["image="], "whole numbers"),
    (["image=1", "image=2"], "twice"),
    ({"image": "1,2"}, "list of whole numbers"),
    ({"image": [1, 0]}, "at least 1"),
])
def test_bad_values_are_usage_errors_that_show_the_form(value, needle):
    with pytest.raises(UsageError, match=needle):
        parse_request(value)


def test_a_dynamic_model_without_a_shape_is_refused_naming_inputs_signatures_and_the_flag():
    with pytest.raises(ShapeRefused) as exc:
        plan_shapes([IMAGE], parse_request(None), "seg.tflite")
    text = str(exc.value)
    assert "seg.tflite" in text and "input 'image' has signature [-1,-1,-1,3]" in text
    assert "placeholder [1,1,1,3]" in text
    assert "--input-shape 'image=<d0>,<d1>,<d2>,3'" in text and "--input-shape default" in text


def test_given_default_batch_and_static_shapes_are_planned_with_their_source():
    plan = plan_shapes([IMAGE], parse_request(["image=1,64,48,3"]), "m")
    assert plan.inputs == (InputShape("image", (-1, -1, -1, 3), (1, 64, 48, 3), "given"),)
    assert plan.runner_args() == ["--input-shape", "image=1,64,48,3"] and plan.key() == [["image", [1, 64, 48, 3]]]
    assert plan_shapes([IMAGE], parse_request("default"), "m").inputs[0].dims == (1, 1, 1, 3)
    batch = ModelInput("x", "serving_default_x:0", (-1, 28, 28, 1), (1, 28, 28, 1))
    assert plan_shapes([batch], parse_request(None), "m").inputs[0] == InputShape("x", batch.signature,
                                                                                  (1, 28, 28, 1), "batch")
    static = ModelInput("s", "s", (1, 4), (1, 4))
    plan = plan_shapes([static], parse_request(None), "m")
    assert plan.inputs[0].source == "model" and plan.runner_args() == [] and plan.key() == []
    # A tensor name works as well as the signature name.
    assert plan_shapes([batch], parse_request(["serving_default_x:0=4,28,28,1"]), "m").inputs[0].dims == (4, 28, 28, 1)


@pytest.mark.parametrize("given, needle", [
    ("image=1,64,64", "gives 3 dimension(s), but input 'image' has rank 4"),
    ("image=1,64,64,4", "sets dimension 3 of input 'image' to 4, but the signature [-1,-1,-1,3] fixes it at 3"),
])
def test_a_shape_that_does_not_fit_the_signature_is_refused(given, needle):
    with pytest.raises(ShapeRefused, match=None) as exc:
        plan_shapes([IMAGE], parse_request([given]), "m")
    assert needle in str(exc.value) and "--input-shape 'image=<d0>,<d1>,<d2>,3'" in str(exc.value)


def _model(path: Path) -> ModelFile:
    return ModelFile(path, path.name, path.name * 2, path.stat().st_size)


def test_session_plans_are_per_model_and_unknown_names_are_usage_errors(tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_text("not a model")
    models = [_model(DYNAMIC), _model(ADD), _model(junk)]
    plans = plan_session_shapes(models, None)
    assert isinstance(plans[models[0].sha256], str) and "[-1,-1,-1,3]" in plans[models[0].sha256]
    assert [s.source for s in plans[models[1].sha256].inputs] == ["batch", "batch"]
    assert models[2].sha256 not in plans  # not a model: the runner says what is wrong with it
    # A name one model has applies to it; another model without that input is unaffected.
    plans = plan_session_shapes(models, ["image=1,32,32,3"])
    assert plans[models[0].sha256].inputs[0].dims == (1, 32, 32, 3)
    with pytest.raises(UsageError, match="'imgae' that no model has.*eb_dynamic_image_conv.tflite: 'image'"):
        plan_session_shapes(models, ["imgae=1,32,32,3"])
    refused = plan_session_shapes(models[:1], ["image=1,32,32,3"], engine="benchmark_model")
    assert "--engine runner" in refused[models[0].sha256]


def test_recorded_shapes_are_what_the_runner_reported_not_what_was_asked():
    plan = plan_shapes([IMAGE], parse_request(["image=1,64,64,3"]), "m")
    setup = {"inputs": [{"index": 0, "name": "image", "shape": [1, 32, 32, 3], "shape_signature": [-1, -1, -1, 3],
                         "shape_source": "option"}]}
    assert shapes_ran(setup, plan) == (InputShape("image", (-1, -1, -1, 3), (1, 32, 32, 3), "given"),)
    assert shapes_ran(None, plan) == ()
    # Without a plan (an older store, a file the host could not read) the runner's own words count.
    setup["inputs"][0]["shape_source"] = "placeholder"
    assert shapes_ran(setup, None)[0].source == "default"


def test_a_run_at_another_shape_is_another_run():
    args = dict(session="s", model_sha256="m", harness_build_id="h", runtime_sha256="r", device_id="d",
                config=RunConfig(1, "cpu"), protocol=resolve("smoke"), repeat=0)
    plain = run_key(**args)
    assert run_key(**args, input_shapes=[]) == plain  # static models keep their keys
    a = run_key(**args, input_shapes=[["image", [1, 64, 64, 3]]])
    b = run_key(**args, input_shapes=[["image", [1, 32, 32, 3]]])
    assert len({plain, a, b}) == 3


def _record(run_id: str, shapes: tuple[InputShape, ...], median: float, status: str = "ok") -> RunRecord:
    return RunRecord(run_id=run_id, run_key=run_id, session="s", model="seg.tflite", model_sha256="a" * 64,
                     model_size_bytes=10, target="local", device_id="d", config=RunConfig(1, "cpu"),
                     protocol="smoke", repeat=0, status=status, checks=(), provenance=Provenance("local"),
                     latency=LatencyStats(5, median, median, median, median, median, median, median, 0.0)
                     if status == "ok" else None, input_shapes=shapes)


def test_the_table_shows_a_row_per_shape_with_its_source():
    big = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),)
    small = (InputShape("image", (-1, -1, -1, 3), (1, 1, 1, 3), "default"),)
    summaries = summarize([_record("a", big, 40.0), _record("b", small, 1.0), _record("c", (), 0, "failed")])
    assert {s.input_shapes: s.repeats_total for s in summaries} == {big: 1, small: 1, (): 1}
    console = Console(width=250, record=True)
    console.print(comparison_table(summaries, title="t"))
    text = console.export_text()
    assert "input shapes" in text and "image=1x64x64x3 (given)" in text
    assert "image=1x1x1x3 (file's placeholder)" in text
    # Static models only: no column.
    static = (InputShape("x", (1, 4), (1, 4), "model"),)
    console = Console(width=250, record=True)
    console.print(comparison_table(summarize([_record("d", static, 2.0)]), title="t"))
    assert "input shapes" not in console.export_text()


def test_a_run_without_shapes_joins_the_one_shape_group_of_its_config():
    big = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),)
    (summary,) = summarize([_record("a", big, 40.0), _record("c", (), 0, "failed")])
    assert summary.repeats_total == 2 and summary.repeats_ok == 1 and summary.input_shapes == big


def test_record_json_carries_the_shapes():
    shapes = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),)
    out = _record("a", shapes, 1.0).to_json()["input_shapes"]
    assert out == [{"name": "image", "signature": [-1, -1, -1, 3], "shape": [1, 64, 64, 3], "source": "given"}]
    assert InputShape.from_json(out[0]) == shapes[0]


def test_the_html_report_names_the_shapes(tmp_path):
    from edgebench.bench.session import SessionResult
    from edgebench.report.html import write_session_report

    big = (InputShape("image", (-1, -1, -1, 3), (1, 64, 64, 3), "given"),)
    records = (_record("a", big, 40.0),)
    result = SessionResult(session="s", records=records, summaries=tuple(summarize(records)), skipped_resumed=0)
    text = write_session_report(result, tmp_path / "r.html").read_text()
    assert "input shapes: image=1x64x64x3 (given)" in text

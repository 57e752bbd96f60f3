"""`edgebench perfmodel` on the project's own measurements, end to end from the store: real models pushed
and run on the local target (real harness, LiteRT, SQLite) in two sessions — pinned to CPU 0 and to CPUs 0-1 —
then evaluate, fit, predict and transfer read those runs through --session and store selectors."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from edgebench.api import push_and_run
from edgebench.cli.main import main

from tests.conftest import REAL_MODELS

MODELS = ("tflm_hello_world_float.tflite", "tflm_hello_world_int8.tflite", "tflm_simple_add_model.tflite")

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two CPU masks need two CPUs")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> tuple[Path, str, str]:
    """(workspace, session pinned to CPU 0, session pinned to CPUs 0-1): 3 models × threads 1, 2 each."""
    models = tmp_path_factory.mktemp("models")
    for name in MODELS:
        shutil.copy(REAL_MODELS / name, models / name)
    ws = tmp_path_factory.mktemp("perfcli") / "ws"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGEBENCH_HARNESS_CACHE", str(harness_cache))
        mp.delenv("EDGEBENCH_STORE", raising=False)
        one = push_and_run([models / n for n in MODELS], target="local", protocol="smoke", threads=(1, 2),
                           cpu_mask="1", workspace=ws)
        two = push_and_run([models / n for n in MODELS], target="local", protocol="smoke", threads=(1, 2),
                           cpu_mask="3", workspace=ws)
    return ws, one.session, two.session


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_fit_and_predict_from_a_stored_session(sessions, tmp_path: Path, capsys):
    ws, one, two = sessions
    scores = _json(capsys, ["perfmodel", "evaluate", "--session", one, "--workspace", str(ws), "--learners",
                            "tree,forest", "--folds", "2", "--repeats", "2", "--json"])
    assert isinstance(scores, list) and [s["learner"] for s in scores] == ["tree", "forest"]
    assert all(s["rows"] == 6 and s["measure"] == "latency_median_ms" for s in scores)
    # The command's figures are the API's on the same stored rows (same folds by seed).
    from edgebench.perfmodel.evaluation import evaluate
    from edgebench.perfmodel.sources import resolve_source

    direct = evaluate(resolve_source(f"session={one}", options=None, measure=None, workspace=ws), ["tree", "forest"],
                      folds=2, repeats=2, seed=0)
    assert [s["mape_pct_mean"] for s in scores] == pytest.approx([d.mape_pct_mean for d in direct])
    assert all(0 < s["mape_pct_mean"] < 1e6 for s in scores)

    model_dir = tmp_path / "model"
    fitted = _json(capsys, ["perfmodel", "fit", f"session={one}", "--workspace", str(ws), "-o", str(model_dir),
                            "--json"])
    assert isinstance(fitted, dict) and fitted["rows"] == 6 and len(fitted["device_ids"]) == 1
    assert "threads" in fitted["options"] and "flops" in fitted["options"]

    predictions = _json(capsys, ["perfmodel", "predict", str(model_dir), "--session", two, "--workspace", str(ws),
                                 "--json"])
    assert isinstance(predictions, list) and len(predictions) == 6
    assert all(p["provenance"] == "predicted" and p["predicted_value"] > 0 and p["measured_value"] > 0
               for p in predictions)


def test_transfer_between_stored_sessions_prints_every_method_beside_scratch(sessions, capsys):
    ws, one, two = sessions
    records = _json(capsys, ["perfmodel", "transfer", "--source", f"session={one}", "--target", f"session={two}",
                             "--budget", "2", "--repeats", "2", "--workspace", str(ws), "--json"])
    assert isinstance(records, list)
    assert {r["method"] for r in records} == {"scratch", "dm", "lms", "ratio", "nlms", "gs"}
    assert all(r["budget"] == 2 and r["repeats"] == 2 and r["scored_rows"] == 4 and 0 < r["mape_pct_mean"] < 1e9
               for r in records)
    assert main(["perfmodel", "transfer", "--source", f"session={one}", "--target", f"session={two}",
                 "--budget", "2", "--repeats", "1", "--workspace", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "scratch MAPE %" in out and all(m in out for m in ("dm", "lms", "ratio", "nlms", "gs"))


def test_store_flags_and_source_are_one_or_the_other(sessions, capsys):
    ws, one, _ = sessions
    assert main(["perfmodel", "evaluate", f"session={one}", "--session", one, "--workspace", str(ws)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["perfmodel", "evaluate", "--workspace", str(ws)]) == 2
    assert "--session S" in capsys.readouterr().err

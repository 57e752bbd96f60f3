"""Fitting, saving and loading a performance model folder (model.pkl + model.json)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sklearn

from edgebench.errors import UsageError
from edgebench.perfmodel.saved import default_model_dir, fit_model, load_model, save_model
from edgebench.version import __version__
from tests.perfmodel.fit_generated import latency_frame, latency_table

TREES = 16


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = fit_model(latency_table(), "forest", seed=3, trees=TREES)
    return save_model(model, tmp_path_factory.mktemp("models") / "lat").path  # type: ignore[return-value]


def test_round_trip_predicts_the_same_values(saved: Path):
    fitted = fit_model(latency_table(), "forest", seed=3, trees=TREES)
    loaded = load_model(saved)
    x = latency_table(rows=20, seed=9).x()
    assert (loaded.estimator.predict(x) == fitted.estimator.predict(x)).all()
    assert loaded.path == saved and load_model(saved / "model.json").options == ("threads", "size")


def test_model_json_says_what_it_was_fitted_on(saved: Path):
    meta = json.loads((saved / "model.json").read_text())
    assert meta["schema_version"] == 1 and meta["kind"] == "edgebench-perfmodel"
    assert (meta["measure"], meta["options"], meta["learner"], meta["seed"], meta["trees"]) == (
        "latency_ms", ["threads", "size"], "forest", 3, TREES)
    assert (meta["rows"], meta["source"], meta["device_ids"], meta["provenance"]) == (
        48, "generated", ["dev-a"], "measured")
    assert meta["edgebench_version"] == __version__ and meta["sklearn_version"] == sklearn.__version__
    assert meta["fitted_at_utc"].endswith("+00:00")
    # in-sample error is below the held-out one, and both are real figures of this fit
    assert 0 < meta["training_mape_pct"] < meta["cv_mape_pct"] < 15 and meta["cv_folds"] == 5
    assert [f["name"] for f in meta["feature_space"]] == ["threads", "size"]
    assert meta["feature_space"][0]["levels"] == [1.0, 2.0, 4.0, 8.0]


def _copy(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for name in ("model.pkl", "model.json"):
        (target / name).write_bytes((saved / name).read_bytes())
    return target


def _edit(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / "model.json").read_text())
    meta.update(changes)
    (folder / "model.json").write_text(json.dumps(meta))


def test_another_sklearn_version_is_refused_with_the_refit_command(saved: Path, tmp_path: Path):
    folder = _copy(saved, tmp_path)
    _edit(folder, sklearn_version="0.24.2")
    with pytest.raises(UsageError, match=r"fitted with scikit-learn 0\.24\.2, this is .*Refit it: edgebench "
                                         r"perfmodel fit generated --measure latency_ms --options threads,size"):
        load_model(folder)


def test_a_damaged_model_file_is_refused(saved: Path, tmp_path: Path):
    folder = _copy(saved, tmp_path)
    blob = (folder / "model.pkl").read_bytes()
    (folder / "model.pkl").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(UsageError, match=r"model\.pkl: damaged or altered"):
        load_model(folder)
    (folder / "model.pkl").unlink()
    with pytest.raises(UsageError, match=r"model\.pkl is missing"):
        load_model(folder)


def test_an_unpicklable_file_with_a_matching_hash_is_refused(saved: Path, tmp_path: Path):
    import hashlib

    folder = _copy(saved, tmp_path)
    (folder / "model.pkl").write_bytes(b"not a pickle")
    _edit(folder, model_sha256=hashlib.sha256(b"not a pickle").hexdigest())
    with pytest.raises(UsageError, match=r"could not be loaded \(UnpicklingError"):
        load_model(folder)


@pytest.mark.parametrize(("change", "message"), [
    ({"schema_version": 2}, r"schema version 2; this edgebench .* reads version 1 only"),
    ({"kind": "something-else"}, r"not an edgebench performance model"),
])
def test_unknown_schema_or_kind_is_refused(saved: Path, tmp_path: Path, change, message):
    folder = _copy(saved, tmp_path)
    _edit(folder, **change)
    with pytest.raises(UsageError, match=message):
        load_model(folder)


def test_missing_or_broken_model_json(tmp_path: Path):
    with pytest.raises(UsageError, match=r"expected a model folder with model\.json and model\.pkl"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(UsageError, match=r"model\.json: not valid JSON"):
        load_model(tmp_path)


def test_fit_needs_enough_rows_and_a_measure(tmp_path: Path):
    with pytest.raises(UsageError, match=r"4 row\(s\); cross-validation .* needs at least 6"):
        fit_model(latency_table(rows=4), "tree")
    from edgebench.perfmodel.table import table_from_frame

    unmeasured = table_from_frame(latency_frame(), options=["threads"], measure=None, source="t.csv")
    with pytest.raises(UsageError, match=r"t\.csv: name the measure to fit"):
        fit_model(unmeasured)


def test_model_names_are_one_folder(tmp_path: Path):
    assert default_model_dir(tmp_path, "pixel7-lat") == tmp_path / "perfmodels" / "pixel7-lat"
    with pytest.raises(UsageError, match=r"model name '\.\./x': expected letters"):
        default_model_dir(tmp_path, "../x")


def test_saving_replaces_a_model_but_not_other_files(saved: Path, tmp_path: Path):
    model = load_model(saved)
    assert save_model(model, saved).path == saved  # a model folder is replaced
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"a folder with other files and no model in it"):
        save_model(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]

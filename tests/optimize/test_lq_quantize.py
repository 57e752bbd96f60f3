"""litert-quantizer recipes on a tiny CNN written in the test and on real float models (no TensorFlow)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebench.errors import UsageError
from edgebench.optimize.agreement import run
from edgebench.optimize.lq_calibration import load_calibration
from edgebench.optimize.lq_quantize import NothingQuantizedError, QuantizeError, quantize_tflite
from edgebench.optimize.lq_recipes import NAMES, from_file, named
from tests.optimize.tiny_tflite import tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "fixtures" / "real-device" / "g_tflite_models"
TOOLCHAIN = ROOT / "toolchain"

# recipe -> (weight tensors per new dtype, activations per new dtype, io changes, min cosine, min SNR dB)
# tiny_cnn has two weight tensors (conv 32x3x3x64, dense 10x512) and two float biases. Blockwise int4
# applies to the fully connected layer only (litert-quantizer's policy); static recipes quantize the
# biases to int32 (int8 activations) or int64 (int16 activations) and every activation.
EXPECTED = {
    "int8_dynamic": ({"int8": 2}, {}, 0, 0.999, 30.0),
    "int4_blockwise_32": ({"int4": 1}, {}, 0, 0.99, 15.0),
    "int4_blockwise_64": ({"int4": 1}, {}, 0, 0.99, 15.0),
    "int4_blockwise_128": ({"int4": 1}, {}, 0, 0.99, 15.0),
    "int8_weight_only": ({"int8": 2}, {}, 0, 0.999, 30.0),
    "int4_weight_only": ({"int4": 2}, {}, 0, 0.95, 10.0),
    "int8_static": ({"int8": 2, "int32": 2}, {"int8": 4}, 2, 0.95, 10.0),
    "int16x8_static": ({"int8": 2, "int64": 2}, {"int16": 4}, 2, 0.95, 10.0),
    "fp16": ({"float16": 2}, {}, 0, 0.99999, 60.0),
}


@pytest.fixture(scope="module")
def parent() -> bytes:
    return tiny_cnn()


def test_every_named_recipe_is_covered() -> None:
    assert set(EXPECTED) == set(NAMES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_recipe_on_tiny_cnn(parent: bytes, name: str) -> None:
    weights, activations, io_changes, min_cosine, min_snr = EXPECTED[name]
    recipe = named(name)
    variant = quantize_tflite(parent, recipe, load_calibration("auto", parent) if recipe.static else None)
    assert variant.weights_quantized == weights
    assert variant.activations_quantized == activations
    assert len(variant.io_dtype_changes) == io_changes
    assert len(variant.data) < len(parent)
    (a,) = variant.agreement
    assert a.cosine >= min_cosine and a.snr_db >= min_snr and 0 < a.max_abs_diff < 1.0, a
    assert variant.per_tensor["available"] and variant.per_tensor["tensors_compared"] >= 9
    outputs = run(variant.data, [{"image": np.zeros((1, 4, 4, 64), np.float32)}])  # the variant runs in LiteRT
    assert outputs["logits"].shape == (1, 1, 10) and np.isfinite(outputs["logits"]).all()


# Real float models: what each recipe quantizes, or the reason it is refused. hello_world (TFLM's sine
# regressor) has three FULLY_CONNECTED layers 1->16->16->1; eb_dynamic_image_conv one 1x1 CONV_2D and no
# signature; eb_lstm_unrolled three float weight matrices. Widths of 16 cannot be split in blocks of 32+.
REAL = {
    ("tflm_hello_world_float", "int8_dynamic"): {"int8": 3},
    ("tflm_hello_world_float", "int8_weight_only"): {"int8": 3},
    ("tflm_hello_world_float", "int4_weight_only"): {"int4": 3},
    ("tflm_hello_world_float", "fp16"): {"float16": 3},
    ("tflm_hello_world_float", "int4_blockwise_32"): "not divisible by block size 32",
    ("tflm_hello_world_float", "int4_blockwise_128"): "not divisible by block size 128",
    ("eb_dynamic_image_conv", "int8_dynamic"): {"int8": 1},
    ("eb_dynamic_image_conv", "int4_weight_only"): {"int4": 1},
    ("eb_dynamic_image_conv", "int4_blockwise_64"): "none of its 2 float32 weight tensors is the weight of an op",
    ("eb_dynamic_image_conv", "int8_static"): "calibrates per signature and the model has none",
    ("eb_lstm_unrolled", "int8_weight_only"): {"int8": 3},
    ("eb_lstm_unrolled", "fp16"): {"float16": 3},
}


def _real(name: str) -> bytes:
    folder = MODELS if name.startswith("tflm_") else ROOT / "fixtures" / "models"
    return (folder / f"{name}.tflite").read_bytes()


@pytest.mark.parametrize("model, recipe", sorted(REAL), ids=[f"{m}-{r}" for m, r in sorted(REAL)])
def test_named_recipes_on_real_float_models(model: str, recipe: str) -> None:
    parent, expected = _real(model), REAL[(model, recipe)]
    r = named(recipe)
    if isinstance(expected, str):
        with pytest.raises((QuantizeError, NothingQuantizedError), match=f"{recipe}.*{expected}"):
            quantize_tflite(parent, r, load_calibration("auto", parent) if r.static else None)
        return
    variant = quantize_tflite(parent, r, None)
    assert variant.weights_quantized == expected and not variant.io_dtype_changes
    floor = {"int4_weight_only": 0.97}.get(recipe, 0.999)  # int4 keeps 16 levels per channel
    assert all(a.cosine >= floor and a.snr_db >= (13.0 if recipe.startswith("int4") else 39.0) for a in variant.agreement), \
        variant.agreement


def test_static_recipe_on_a_scalar_input_model_reports_its_poor_agreement() -> None:
    # litert-quantizer keeps a moving average of each sample's min and max; a [1, 1] input has min == max in
    # every sample, so its calibrated range collapses. The variant is made, and the figures say it is poor.
    parent = _real("tflm_hello_world_float")
    variant = quantize_tflite(parent, named("int8_static"), load_calibration("auto", parent))
    assert variant.io_dtype_changes == ("input serving_default_dense_input:0: float32 -> int8",
                                        "output StatefulPartitionedCall:0: float32 -> int8")
    assert variant.agreement[0].cosine < 0.9 and variant.agreement[0].snr_db < 3.0


@pytest.mark.parametrize("model", [pytest.param("mobilenet", id="old-format-mobilenet"),
                                   pytest.param("tiny-old", id="tiny-cnn-old-opcodes")])
def test_old_operator_codes_quantize_nothing(model: str) -> None:
    parent = ((MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite").read_bytes() if model == "mobilenet"
              else tiny_cnn(old_opcodes=True))
    with pytest.raises(NothingQuantizedError, match=r"recipe int8_weight_only quantized nothing.*"
                                                    r"deprecated_builtin_code.*CONV_2D"):
        quantize_tflite(parent, named("int8_weight_only"), None)


def test_recipe_file(tmp_path: Path, parent: bytes) -> None:
    import litert_quantizer

    shipped = Path(litert_quantizer.__file__).parent / "recipes" / "default_af32w4float_recipe.json"
    recipe = from_file(shipped)
    assert recipe.name == "file:default_af32w4float_recipe" and recipe.expected_weight_dtypes == {"int4"}
    assert quantize_tflite(parent, recipe, None).weights_quantized == {"int4": 2}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"regex": ".*"}))
    with pytest.raises(UsageError, match="expected a non-empty JSON list"):
        from_file(bad)


def test_calibration_inputs(tmp_path: Path, parent: bytes) -> None:
    good = np.random.default_rng(0).uniform(-1, 1, (3, 4, 4, 64)).astype(np.float32)
    np.savez(tmp_path / "ok.npz", image=good)
    calibration = load_calibration(str(tmp_path / "ok.npz"), parent)
    assert len(calibration.samples) == 3 and calibration.samples[0]["image"].shape == (1, 4, 4, 64)
    assert not calibration.automatic and calibration.data_sha256 != load_calibration("auto", parent).data_sha256
    folder = tmp_path / "dir"
    folder.mkdir()
    np.save(folder / "image.npy", good)
    assert load_calibration(str(folder), parent).data_sha256 == calibration.data_sha256
    np.savez(tmp_path / "missing.npz", pixels=good)
    with pytest.raises(UsageError, match="no array for input.*'image'.*the data has 'pixels'"):
        load_calibration(str(tmp_path / "missing.npz"), parent)
    np.savez(tmp_path / "shape.npz", image=good[:, :2])
    with pytest.raises(UsageError, match=r"'image' has shape \[3, 2, 4, 64\]; expected \[N, 1, 4, 4, 64\]"):
        load_calibration(str(tmp_path / "shape.npz"), parent)
    np.savez(tmp_path / "dtype.npz", image=good.astype(np.float64))
    with pytest.raises(UsageError, match="'image' is float64, the model takes float32"):
        load_calibration(str(tmp_path / "dtype.npz"), parent)
    with pytest.raises(UsageError, match="expected 'auto', a folder"):
        load_calibration(str(tmp_path / "nothing.txt"), parent)


def _edgebench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = ("import sys, runpy; sys.argv = ['edgebench', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('edgebench.cli.main', run_name='__main__')\n"
            "finally:\n    print('TF_LOADED=' + str('tensorflow' in sys.modules), file=sys.stderr)")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": f"{TOOLCHAIN}:{ROOT}", "PATH": "/usr/bin:/bin"})


def test_cli_quantize_stores_variants_without_tensorflow(tmp_path: Path, parent: bytes) -> None:
    model = tmp_path / "tiny.tflite"
    model.write_bytes(parent)
    done = _edgebench("--workspace", str(tmp_path / "ws"), "quantize", str(model), "--recipe", "int8_dynamic,int8_static",
                      "-o", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "TF_LOADED=False" in done.stderr
    assert "calibration: auto (16 seeded random samples" in done.stderr
    assert "WARNING: int8_static changes input image: float32 -> int8" in done.stderr
    records = json.loads(done.stdout)["variants"]
    assert [r["recipe"] for r in records] == ["int8_dynamic", "int8_static"]
    dynamic, static = records
    assert dynamic["calibration"] is None and static["calibration_sha256"]
    for r in records:
        stored = tmp_path / "ws" / "artifacts" / "quantized" / r["artifact_id"] / r["file"]
        assert r["parent_file"] == "tiny.tflite" and len(r["parent_sha256"]) == 64
        assert __import__("hashlib").sha256(stored.read_bytes()).hexdigest() == r["artifact_id"]
        assert (tmp_path / "out" / r["file"]).is_file()
    traced = _edgebench("--workspace", str(tmp_path / "ws"), "results", "lineage", static["artifact_id"], "--json",
                        cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr
    node = json.loads(traced.stdout)["lineage"]
    assert (node["kind"], node["label"]) == ("quantized", "int8_static")
    (parent_node,) = node["parents"]
    assert (parent_node["kind"], parent_node["artifact_id"], parent_node["label"]) == (
        "tflite", dynamic["parent_sha256"], "tiny.tflite")
    assert parent_node["via"] == f"int8_static (litert-quantizer); calibration {static['calibration_sha256'][:16]}"
    helped = _edgebench("quantize", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "TF_LOADED=False" in helped.stderr and "--recipe-file" in helped.stdout


def test_cli_nothing_quantized_is_an_error(tmp_path: Path) -> None:
    done = _edgebench("--workspace", str(tmp_path / "ws"), "quantize",
                      str(MODELS / "tfls_mobilenet_v1_0.25_224_float.tflite"), "--recipe", "fp16", cwd=tmp_path)
    assert done.returncode == 1
    assert "recipe fp16 quantized nothing: no weight tensor became float16" in done.stderr
    assert not (tmp_path / "ws" / "artifacts" / "quantized").exists()

"""The README's "Models from PyTorch" path, end to end: a tiny PyTorch CNN converted by litert-torch
(examples/pytorch_to_edgebench.py), inspected, quantized by `edgebench quantize` and measured by
`edgebench push-and-run --target local` with its outputs checked against the float conversion.

Runs only where the `torch` extra is installed (litert-torch with PyTorch, JAX and transformers, about
2.1 GB, so neither the `test` extra nor setup.sh installs it); elsewhere it skips with that reason.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("litert_torch", reason="litert-torch (the `torch` extra, about 2.1 GB) is not installed: "
                                           "pip install -e '.[torch]' to run the PyTorch path")
pytest.importorskip("litert_quantizer", reason="litert-quantizer (the `quantize` extra) is not installed")

from edgebench.cli.main import main  # noqa: E402  (after the skips: nothing to run without the extras)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytorch_to_edgebench.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pytorch_to_edgebench", EXAMPLE)
    assert spec is not None and spec.loader is not None, f"cannot load {EXAMPLE}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _json_of(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    capsys.readouterr()  # drop what ran before (litert-torch prints its progress to stdout)
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_a_pytorch_cnn_converts_quantizes_and_runs_with_agreeing_outputs(
        tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent = tmp_path / "tiny_cnn.tflite"
    max_diff = _example().convert_tiny_cnn(parent, seed=0)
    assert max_diff < 1e-4, f"litert-torch's conversion differs from PyTorch by {max_diff}"

    code, inspected = _json_of(capsys, ["inspect", str(parent), "--json"])
    model = inspected["data"]
    assert code == 0 and model["problems"] == [] and not model["needs_flex"]
    assert [(t["dtype"], t["shape"]) for t in model["inputs"]] == [("float32", [1, 1, 28, 28])]
    assert [(t["dtype"], t["shape"]) for t in model["outputs"]] == [("float32", [1, 10])]
    assert model["quantization"] == "float32" and model["parameter_count"] >= 20_490  # TinyCNN's own count

    variants = tmp_path / "variants"
    code, quantized = _json_of(capsys, ["quantize", str(parent), "--recipe", "int8_dynamic", "-o", str(variants),
                                        "--json"])
    assert code == 0 and quantized["errors"] == []
    (variant,) = quantized["variants"]
    # both convolutions and the classifier hold int8 weights; the float parent's outputs are kept closely
    assert variant["recipe"] == "int8_dynamic" and variant["weights_quantized"] == {"int8": 3}
    assert variant["size_bytes"] < parent.stat().st_size / 3
    (agreement,) = variant["agreement"]
    assert agreement["cosine"] > 0.999 and agreement["snr_db"] > 30, agreement
    (variant_file,) = variants.glob("*.tflite")

    code, runs = _json_of(capsys, ["push-and-run", str(parent), str(variant_file), "--target", "local",
                                   "--protocol", "smoke", "--runs", "10", "--check-outputs",
                                   "--reference", str(parent), "--json"])
    assert code == 0
    by_model = {r["model"]: r for r in runs}
    assert set(by_model) == {parent.name, variant_file.name}
    for record in by_model.values():
        assert record["status"] == "ok" and record["latency_us"]["median"] > 0, record
        assert record["checks"]["output_agreement"] == "pass", record["check_reasons"]
        assert f"against the reference {parent.name}" in record["check_reasons"]["output_agreement"]

"""`edgebench quantize MODEL.tflite [--recipe NAME ...] [--recipe-file FILE] [--calibration auto|DIR|NPZ]`.

Makes variants of any float .tflite with litert-quantizer (no TensorFlow), checks each (tensors
actually quantized per dtype, output agreement with the parent on seeded inputs in LiteRT,
litert-quantizer's per-tensor comparison, input/output dtype changes) and stores it under
<workspace>/artifacts/quantized/<sha256>/ with its lineage. A recipe that quantized nothing is an
error naming the recipe and why, and no variant. Recipes: optimize/lq_recipes.py and the README.
"""
from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgebench.store.artifacts import QuantizedModel

HELP = "Quantize any float .tflite with litert-quantizer recipes; validate and store each variant."
DEFAULT_RECIPES = ("int8_dynamic",)
MAX_MODEL_BYTES = 2 << 30  # flatbuffers cap a .tflite at 2 GiB


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.tflite", help="a float .tflite model")
    parser.add_argument("--recipe", action="append", default=None, metavar="NAME",
                        help="int8_dynamic, int4_blockwise_32, int4_blockwise_64, int4_blockwise_128, "
                             "int8_weight_only, int4_weight_only, int8_static, int16x8_static, fp16; repeat or "
                             "comma-separate for several (default: int8_dynamic unless --recipe-file is given)")
    parser.add_argument("--recipe-file", action="append", default=None, metavar="FILE",
                        help="a litert-quantizer JSON recipe (list of {regex, operation, algorithm_key, op_config})")
    parser.add_argument("--calibration", default="auto", metavar="auto|DIR|NPZ",
                        help="calibration data for static recipes: 'auto' (seeded random inputs, not real data), a "
                             "folder of <input name>.npy or an .npz with one array per input name, each [N, *shape]")
    parser.add_argument("-o", "--output", default=None, metavar="DIR",
                        help="also copy each variant's .tflite into DIR")
    parser.add_argument("--json", action="store_true", help="print the variant records as JSON")


def run(args: argparse.Namespace) -> int:
    from edgebench.errors import EdgebenchError, UsageError
    from edgebench.optimize.lq_artifacts import store_quantized
    from edgebench.optimize.lq_calibration import Calibration, load_calibration
    from edgebench.optimize.lq_quantize import quantize_tflite
    from edgebench.optimize.lq_recipes import LqRecipe, from_file, named
    from edgebench.store.artifacts import ArtifactStore
    from edgebench.inspect.tflite_model import is_tflite
    from edgebench.user_files import read_bytes_bounded
    from edgebench.workspace import Workspace

    parent = read_bytes_bounded(Path(args.model), MAX_MODEL_BYTES, "a float .tflite model")
    if not is_tflite(parent[:8]):
        raise UsageError(f"{args.model} is not a .tflite flatbuffer (no TFL3 identifier); expected a float .tflite")
    names = [n.strip() for text in (args.recipe or []) for n in text.split(",") if n.strip()]
    if not names and not args.recipe_file:
        names = list(DEFAULT_RECIPES)
    recipes: list[LqRecipe] = [named(n) for n in names] + [from_file(f) for f in args.recipe_file or []]
    calibration: Calibration | None = None
    if any(r.static for r in recipes):
        calibration = load_calibration(args.calibration, parent)
        print(f"calibration: {calibration.source}", file=sys.stderr)
    elif args.calibration != "auto":
        print(f"--calibration {args.calibration} not used: none of the recipes quantizes activations", file=sys.stderr)
    ws = Workspace.resolve(args.workspace)
    store = ArtifactStore.for_workspace(ws)
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    records: list[QuantizedModel] = []
    failures: list[str] = []
    for recipe in recipes:
        print(f"{recipe.name}: quantizing {Path(args.model).name} with litert-quantizer", file=sys.stderr, flush=True)
        try:
            variant = quantize_tflite(parent, recipe, calibration if recipe.static else None)
        except UsageError:
            raise
        except EdgebenchError as exc:
            failures.append(str(exc))
            print(f"error: {exc}", file=sys.stderr)
            continue
        record = store_quantized(store, parent, args.model, variant, calibration if recipe.static else None)
        records.append(record)
        if out_dir is not None:
            shutil.copyfile(record.path, out_dir / record.path.name)
        for change in record.io_dtype_changes:
            print(f"WARNING: {recipe.name} changes {change}: callers must feed/read quantized values "
                  f"(scale and zero point in the model)", file=sys.stderr)
    if records:
        from edgebench.lineage import record_in_workspace

        record_in_workspace(ws.root, store, records)
    if args.json:
        import json

        from edgebench.store.artifacts import to_json

        print(json.dumps({"variants": [to_json(r) for r in records], "errors": failures}, indent=1, default=str))
    elif records:
        from rich.console import Console

        Console().print(variant_table(records))
    return 1 if failures else 0


def _fmt_db(value: float) -> str:
    return "inf" if math.isinf(value) and value > 0 else f"{value:.1f}"


def variant_table(records: list[QuantizedModel]) -> Any:
    from rich.table import Table

    table = Table(title=f"litert-quantizer variants of {records[0].parent_file} ({records[0].parent_size_bytes:,} B); "
                        f"agreement with it on {records[0].agreement_samples} seeded inputs (worst output)")
    for column in ("recipe", "size", "gzip", "weights", "activations", "cosine", "max|diff|", "SNR dB",
                   "worst tensor SNR dB", "dtype changes", "id"):
        table.add_column(column, justify="right" if column in ("size", "gzip", "cosine", "max|diff|", "SNR dB")
                         else "left")
    for r in records:
        worst = min(r.agreement, key=lambda a: a["cosine"])
        tensor = (f"{r.per_tensor['worst_snr_db']:.1f} ({r.per_tensor['worst_tensor']})" if r.per_tensor.get("available")
                  else "n/a: " + str(r.per_tensor.get("reason", "")))
        table.add_row(
            r.recipe, f"{r.size_bytes:,} ({r.size_bytes / r.parent_size_bytes:.2f}x)",
            f"{r.gzip_size_bytes:,} ({r.gzip_size_bytes / r.parent_gzip_size_bytes:.2f}x)",
            ", ".join(f"{d} x{n}" for d, n in r.weights_quantized.items()),
            ", ".join(f"{d} x{n}" for d, n in r.activations_quantized.items()) or "float",
            f"{worst['cosine']:.4f}", f"{worst['max_abs_diff']:.3g}", _fmt_db(worst["snr_db"]), tensor,
            "[bold red]" + "; ".join(r.io_dtype_changes) + "[/]" if r.io_dtype_changes else "none",
            r.artifact_id[:12])
    return table

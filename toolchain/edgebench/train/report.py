"""Plain-text summaries of artifact records for the train / optimize / convert commands."""
from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from edgebench.store.artifacts import ConvertedModel, Record, TrainedModel, TransformedModel, to_json


def _acc(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _data(record: TrainedModel | TransformedModel | ConvertedModel) -> str:
    d = record.dataset
    return (f"{d.loader}: {d.num_train} train / {d.num_val} val / {d.num_test} test, "
            f"input {list(d.input_shape)} {d.input_dtype}, hash {d.data_hash[:12]}")


def describe_trained(r: TrainedModel, reused: bool) -> str:
    how = "reused (same spec, hyperparameters, seed and data)" if reused else f"trained in {r.train_seconds:.1f} s"
    hp = ", ".join(f"{k}={v}" for k, v in sorted(r.hyperparameters.items()))
    lines = [
        f"trained {r.architecture}  {r.artifact_id}  {how}",
        f"  data      {_data(r)}",
        f"  hyper     {hp}",
        f"  params    {r.parameter_count:,}",
        f"  accuracy  val {_acc(r.val_accuracy)}  test {_acc(r.test_accuracy)}  ({r.epochs_run} epochs)",
    ]
    if r.selective_backprop:
        lines += describe_selective_backprop(r.selective_backprop)
    lines.append(f"  model     {r.path}")
    return "\n".join(lines)


def describe_selective_backprop(sb: dict[str, Any]) -> list[str]:
    """The SB lines of a trained record: settings, then analyzed / backpropagated / times per epoch."""
    s, totals = sb["settings"], sb["totals"]
    stale = f", Stale-SB staleness {s['staleness']}" if s["staleness"] else ""
    schedule = f"schedule {sb['lr_schedule']} by examples {s['lr_by']}" if sb.get("lr_schedule") \
        else "constant learning rate"
    fraction = "—" if totals["backprop_fraction"] is None else f"{totals['backprop_fraction']:.3f}"
    lines = [f"  SB        beta {s['beta']:g}, history {s['history']}{stale}; {schedule}; after the primed epoch "
             f"backpropagated {fraction} (1/(beta+1) = {1 / (s['beta'] + 1):.3f})"]
    for e in sb["epochs"]:
        lines.append(f"    epoch {e['epoch']}{' (primed)' if e['primed'] else ''}: analyzed {e['examples_analyzed']}"
                     f" (forward {e['examples_forwarded']}), backpropagated {e['examples_backpropagated']} "
                     f"({e['backprop_fraction']:.3f}); forward {e['forward_seconds']:.2f} s, backward "
                     f"{e['backward_seconds']:.2f} s")
    return lines


def describe_transformed(r: TransformedModel, reused: bool) -> str:
    how = "reused" if reused else f"fine-tuned {r.finetune_epochs} epoch(s) in {r.finetune_seconds:.1f} s"
    lines = [
        f"{r.transform:<12} {r.artifact_id}  {how}",
        f"  accuracy  val {_acc(r.val_accuracy)}  test {_acc(r.test_accuracy)}   "
        f"weights: {r.weight_sparsity:.1%} zero, at most {r.max_unique_weights} distinct per tensor",
        f"  covered   {', '.join(r.covered_layers) or '—'}",
    ]
    if r.uncovered_layers:
        lines.append(f"  not       {', '.join(r.uncovered_layers)}")
    if r.note:
        lines.append(f"  note      {r.note}")
    lines.append(f"  model     {r.path}")
    return "\n".join(lines)


def converted_table(records: Sequence[ConvertedModel]) -> str:
    header = ("variant", "id", "size", "gzip", "acc", "keras", "agree", "ops", "MFLOPs", "holds")
    rows = [header]
    for r in records:
        rows.append((r.variant, r.artifact_id[:12], f"{r.size_bytes:,}", f"{r.gzip_size_bytes:,}",
                     f"{r.test_accuracy:.3f}", f"{r.keras_test_accuracy:.3f}", f"{r.agreement:.3f}",
                     str(r.operator_count), f"{r.flops / 1e6:.3f}" + ("+" if r.flops_not_counted else ""),
                     r.tflite_quantization))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i in (0, 1, 9) else cell.rjust(w) for i, (cell, w) in
                       enumerate(zip(row, widths))) for row in rows]
    lines += [f"  {r.variant}: {r.path}" for r in records]
    lines += [f"  warning: {r.variant}: XNNPACK refused it on this host (ran on builtin kernels), so a device's "
              f"default CPU path may refuse it too: {r.xnnpack_error}" for r in records if r.xnnpack_error]
    if records:
        n = records[0].validation_samples
        lines.append(f"acc: LiteRT on this host over {n} test examples; keras: the converted Keras model on the same; "
                     f"agree: same top-1 class;\nMFLOPs +: some ops have no FLOP rule; holds: what the weights hold "
                     f"(the converter leaves tensors under 1,024 weights in float)")
    return "\n".join(lines)


def dump_json(records: Iterable[Record]) -> str:
    out = [{**to_json(r), "path": str(r.path)} for r in records]
    return json.dumps(out, indent=1, default=str)


def epoch_printer(total: int, stream: Any) -> Any:
    def report(epoch: int, logs: dict[str, float]) -> None:
        parts = [f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")]
        print(f"  epoch {epoch + 1}/{total}  " + "  ".join(parts), file=stream, flush=True)
    return report

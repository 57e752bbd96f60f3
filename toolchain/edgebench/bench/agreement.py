"""The `output_agreement` check: the runner's on-device comparison of a model's outputs with a
reference's (android_harness/PROTOCOL.md), judged against documented thresholds.

Thresholds (measured with the runner on MobileNet v1 0.25 float, `fixtures/real-device/g_tflite_models`,
seeded inputs 1-5, 1001-way softmax output): its weights rounded to float16 give cosine 0.9998-0.9999
against the original; rounded to int8 per output channel (what int8 converters do) 0.966-0.979; to
int8 per tensor (a broken quantization of depthwise convolutions) 0.35-0.56; one weight tensor zeroed
0.18-0.41. Hence a variant against its float parent (or a named reference) must reach cosine 0.95, and
the same model on a delegate against CPU 0.999 (fp16 arithmetic stays above it; real drift does not).
Whatever the reference, NaN or Inf the reference does not have, and an output whose L2 norm fell below
1/1000 of the reference's (collapse to zero), fail. A one-element output's cosine is only its sign, so
it is not judged on cosine. Max abs difference is reported, not judged: its scale is the model's own.
"""
from __future__ import annotations

from typing import Any, Mapping

from edgebench.bench.references import Reference
from edgebench.harness.output import HarnessOutput
from edgebench.records import Check

COSINE_FLOOR_VARIANT = 0.95  # a variant (quantized, pruned, ...) against its float parent
COSINE_FLOOR_SAME_MODEL = 0.999  # the same model on a delegate against the CPU
COLLAPSE_RATIO = 1e-3  # output L2 norm below this fraction of the reference's: collapsed to zero


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def figures_text(out: Mapping[str, Any]) -> str:
    return (f"output {out.get('index')} '{out.get('name')}': cosine {_fmt(out.get('cosine'))}, "
            f"max abs diff {_fmt(out.get('max_abs_diff'))}, NaN {out.get('nan_count')}, "
            f"Inf {out.get('inf_count')}, L2 {_fmt(out.get('l2_norm'))} "
            f"(reference L2 {_fmt(out.get('reference_l2_norm'))})")


def _problems(out: Mapping[str, Any], floor: float) -> list[str]:
    problems = []
    nan, inf = int(out.get("nan_count") or 0), int(out.get("inf_count") or 0)
    if nan > int(out.get("reference_nan_count") or 0) or inf > int(out.get("reference_inf_count") or 0):
        problems.append(f"{nan} NaN and {inf} Inf values (the reference has {out.get('reference_nan_count')} "
                        f"and {out.get('reference_inf_count')})")
    norm, ref_norm = out.get("l2_norm"), out.get("reference_l2_norm")
    if isinstance(norm, (int, float)) and isinstance(ref_norm, (int, float)) and ref_norm > 0 \
            and norm < COLLAPSE_RATIO * ref_norm:
        problems.append(f"collapsed to zero (L2 norm {_fmt(float(norm))} < {COLLAPSE_RATIO:g} x the "
                        f"reference's {_fmt(float(ref_norm))})")
    cosine = out.get("cosine")
    if int(out.get("elements") or 0) > 1:
        if cosine is None and ref_norm == 0 and isinstance(norm, (int, float)) and norm > 0:
            problems.append("the reference's output is all zero, the model's is not")
        # cosine None otherwise: both all zero (they agree) or no finite pair (NaN/Inf judged above).
        elif isinstance(cosine, (int, float)) and cosine < floor:
            problems.append(f"cosine {_fmt(float(cosine))} < {floor:g}")
    return problems


def agreement_check(output: HarnessOutput, reference: Reference | None, *, off_reason: str) -> Check:
    """`reference` None: the check was not asked for (`off_reason` says why)."""
    if reference is None:
        return Check("output_agreement", "not_checked", off_reason)
    line = output.output_agreement
    if line is None:
        why = ("the model never ran (0 warm-up and 0 timed runs)" if not output.warmup and not output.timed
               else f"runner {output.runner_version} wrote no output_agreement line (rebuild the harness)")
        return Check("output_agreement", "not_checked", why)
    if line.get("status") != "checked":
        return Check("output_agreement", "not_checked", str(line.get("reason") or "the runner gave no reason"))
    floor = COSINE_FLOOR_SAME_MODEL if reference.model is None else COSINE_FLOOR_VARIANT
    outputs = [o for o in line["outputs"] if isinstance(o, Mapping)]
    if not outputs:
        return Check("output_agreement", "not_checked", "the runner compared no outputs")
    failures = [f"{figures_text(o)}: {'; '.join(p)}" for o in outputs if (p := _problems(o, floor))]
    against = f"against {reference.label} (cosine floor {floor:g})"
    if failures:
        return Check("output_agreement", "fail", f"outputs disagree {against}: " + " | ".join(failures))
    return Check("output_agreement", "pass", f"{against}: " + " | ".join(figures_text(o) for o in outputs))

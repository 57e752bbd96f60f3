"""The output_agreement check's verdicts from the runner's figures (made-up lines, inline): thresholds
by reference kind, NaN/Inf, collapse to zero, one-element outputs, and the line's validation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgebench.bench.agreement import agreement_check
from edgebench.bench.plan import ModelFile
from edgebench.bench.references import Reference
from edgebench.errors import ParseError
from edgebench.harness.output import parse_harness_output

PARENT = Reference("parent", ModelFile(Path("/m/float.tflite"), "float.tflite", "ab" * 32, 10))
SAME = Reference("same_model_cpu")


def _output(**figures: object) -> str:
    out = {"index": 0, "name": "probs", "elements": 1001, "cosine": 0.99, "max_abs_diff": 0.01, "nan_count": 0,
           "inf_count": 0, "reference_nan_count": 0, "reference_inf_count": 0, "l2_norm": 0.1,
           "reference_l2_norm": 0.1, **figures}
    lines = [{"type": "start", "runner_version": "1.2.0", "boottime_ns": 1},
             {"type": "run", "index": 0, "latency_us": 5.0, "start_ns": 2},
             {"type": "summary", "count": 1, "min_us": 5.0, "median_us": 5.0, "max_us": 5.0},
             {"type": "output_agreement", "status": "checked", "reason": None, "outputs": [out]},
             {"type": "end", "status": "ok", "exit_code": 0}]
    return "\n".join(json.dumps({"schema": 1, **line}) for line in lines)


def _check(reference: Reference, **figures: object):
    return agreement_check(parse_harness_output(_output(**figures)), reference, off_reason="off")


def test_the_cosine_floor_depends_on_the_reference():
    assert _check(PARENT, cosine=0.99).outcome == "pass"
    failed = _check(SAME, cosine=0.99)
    assert failed.outcome == "fail" and "cosine 0.99 < 0.999" in failed.reason
    assert _check(PARENT, cosine=0.94).outcome == "fail"


def test_nan_inf_and_collapse_fail_whatever_the_cosine():
    nan = _check(PARENT, nan_count=3)
    assert nan.outcome == "fail" and "3 NaN and 0 Inf values" in nan.reason
    assert _check(PARENT, nan_count=3, reference_nan_count=3).outcome == "pass"
    collapsed = _check(SAME, cosine=1.0, l2_norm=1e-9, reference_l2_norm=0.5)
    assert collapsed.outcome == "fail" and "collapsed to zero" in collapsed.reason


def test_all_zero_outputs_agree_only_when_both_are_zero():
    assert _check(SAME, cosine=None, l2_norm=0.0, reference_l2_norm=0.0, max_abs_diff=0.0).outcome == "pass"
    failed = _check(SAME, cosine=None, l2_norm=0.2, reference_l2_norm=0.0)
    assert failed.outcome == "fail" and "reference's output is all zero" in failed.reason


def test_a_one_element_output_is_not_judged_on_its_sign():
    assert _check(PARENT, elements=1, cosine=-1.0).outcome == "pass"


def test_not_requested_or_not_reported_is_not_checked_never_pass():
    output = parse_harness_output(_output())
    assert agreement_check(output, None, off_reason="smoke").reason == "smoke"
    lines = [line for line in _output().splitlines() if "output_agreement" not in line]
    check = agreement_check(parse_harness_output("\n".join(lines)), SAME, off_reason="off")
    assert check.outcome == "not_checked" and "wrote no output_agreement line" in check.reason


def test_a_malformed_line_is_refused():
    with pytest.raises(ParseError, match="checked or not_checked"):
        parse_harness_output(_output().replace('"status": "checked"', '"status": "fine"'))
    with pytest.raises(ParseError, match="cosine must be a number or null"):
        parse_harness_output(_output(cosine="high"))

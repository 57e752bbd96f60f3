"""benchmark_model text pasted in part: a lone statistics line (C15) and op-profiling tables (C16)."""
from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.errors import ParseError
from edgebench.inspect import inspect_file
from edgebench.inspect.benchmark_model import parse_benchmark_model, sniff

CAPTURES = Path(__file__).resolve().parents[2] / "fixtures" / "real-device" / "a_benchmark_model"
IMX = (CAPTURES / "imx8mp_linux_mobilenet_v1_quant_cpu_opprofiling.txt").read_text()
OLD = (CAPTURES / "android_arm64_2019_old_format_no_stats_mobilenet_v2_quant_tail.txt").read_text()
SYNAPTICS = (CAPTURES / "synaptics_synap_android_tf2.15_nnapi_npu_INFO_prefix.txt").read_text()


def tail(text: str, first_line: str) -> str:
    """The capture from the first line that starts with `first_line` (after any INFO: prefix)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.removeprefix("INFO: ").startswith(first_line))
    return "\n".join(lines[start:]) + "\n"


@pytest.mark.parametrize("text, count, avg", [
    (tail(IMX, "count=50"), 50, 162980),  # 2020+ result line
    (tail(OLD, "count=10"), 10, 133690),  # 2019 "Average inference timings ... no stats:"
    (tail(SYNAPTICS, "count=520"), 520, 1885.74),  # INFO: prefixes
    (tail(IMX, "Running benchmark for at least 50"), 50, 162980),  # the header does not tell either
])
def test_lone_stats_line_is_the_timed_loop_when_its_average_is_the_inference_average(text, count, avg):
    r = parse_benchmark_model(text)
    assert r.timed is not None and r.timed.count == count and r.timed.avg_us == avg
    assert r.inference_count == count
    assert r.warmup is None and r.warmup_count is None  # not filed as the warm-up
    assert "timed average" in r.loops_note and r.unassigned_stats == ()


def test_lone_stats_line_is_the_warmup_when_its_average_is_the_warmup_average():
    text = "count=4 first=169816 curr=162804 min=162804 max=169816 avg=164822 std=2899\n\n" + \
        tail(IMX, "Inference timings")
    r = parse_benchmark_model(text)
    assert r.warmup.count == 4 and r.timed is None and r.inference_count is None
    assert r.first_inference_us == 169816


def test_lone_stats_line_equal_to_both_averages_is_not_decided():
    r = parse_benchmark_model("count=10 first=100 curr=100 min=99 max=101 avg=100 std=1\n"
                              "Inference timings in us: Init: 5, First inference: 100, Warmup (avg): 100, "
                              "Inference (avg): 100\n")
    assert r.warmup is None and r.timed is None and r.inference_count is None
    assert r.unassigned_stats[0].count == 10
    assert "cannot be told" in r.loops_note
    assert r.inference_avg_us == 100  # the result line itself is still read


def test_lone_stats_line_of_a_failed_fragment_is_not_decided():
    r = parse_benchmark_model("count=10 first=100 curr=100 min=99 max=101 avg=100 std=1\nBenchmarking failed.\n")
    assert r.failed and r.warmup is None and r.timed is None
    assert "no result line to compare" in r.loops_note


def test_whole_output_keeps_the_order_and_the_averages_agree():
    r = parse_benchmark_model(IMX)
    assert r.warmup.count == 4 and r.timed.count == 50 and r.loops_note is None


def test_stats_line_contradicting_the_result_line_is_an_error():
    bad = IMX.replace("Warmup (avg): 164822", "Warmup (avg): 150000")
    with pytest.raises(ParseError, match="inconsistent"):
        parse_benchmark_model(bad)


def test_full_tensorflow_with_stats_line_is_neither_loop():
    r = parse_benchmark_model("count=405 first=27236 curr=23132 min=21351 max=37195 avg=24724.8 std=1940\n"
                              "Average inference timings in us: Warmup: 335337, no stats: 23601, "
                              "with stats: 24724\n")
    assert r.warmup is None and r.timed is None and "with stats" in r.loops_note


PROFILE = tail(IMX, "Profiling Info for Benchmark Initialization")
SUMMARY_TABLE_ONLY = tail(IMX, "============================== Summary by node type").split("\n\n\n")[0] + "\n"


@pytest.mark.parametrize("text, first_type", [
    (PROFILE, "CONV_2D"), (tail(IMX, "Operator-wise Profiling Info"), "CONV_2D"),
    (SUMMARY_TABLE_ONLY, "AllocateTensors"),  # one table, no section title
    ("\r\n".join("INFO: " + line for line in SUMMARY_TABLE_ONLY.split("\n")), "AllocateTensors")])
def test_op_profiling_tables_alone_are_read_and_say_there_is_no_run_summary(text, first_type):
    assert sniff(text) > 0
    r = parse_benchmark_model(text)
    assert r.has_run_summary is False and not r.failed
    assert "no run summary" in r.loops_note
    assert r.inference_avg_us is None and r.timed is None and r.init_us is None  # absent, not 0
    profile = r.op_profile()
    assert profile.by_node_type[0].node_type == first_type and profile.by_node_type[0].avg_ms > 0
    if first_type == "CONV_2D":
        assert profile.by_node_type[0].avg_ms == 143.812 and len(profile.run_order) == 31


def test_inspect_reads_op_profiling_tables_alone(tmp_path):
    path = tmp_path / "profile.txt"
    path.write_text(tail(IMX, "Operator-wise Profiling Info"))
    result = inspect_file(path)
    assert result.format == "benchmark_model" and result.data.has_run_summary is False
    assert result.data.op_profile().by_node_type[0].node_type == "CONV_2D"


def test_a_capture_cut_before_its_result_is_still_an_error():
    with pytest.raises(ParseError, match="cut short"):
        parse_benchmark_model(IMX.split("Inference timings")[0])

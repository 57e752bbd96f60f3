"""benchmark_model output parser: every real capture, the documented variants, and bad input."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgebench.errors import ParseError
from edgebench.inspect.benchmark_model import parse_benchmark_model, sniff

CAPTURES = Path(__file__).resolve().parents[2] / "fixtures" / "real-device" / "a_benchmark_model"
IMX = "imx8mp_linux_mobilenet_v1_quant_cpu_opprofiling.txt"
SYNAPTICS = "synaptics_synap_android_tf2.15_nnapi_npu_INFO_prefix.txt"
OLD = "android_arm64_2019_old_format_no_stats_mobilenet_v2_quant_tail.txt"
XIAOMI = "xiaomi_mi11_sd888_nnapi_qti_default_yolov5s_int8_FAILED.txt"


def text(name: str) -> str:
    return (CAPTURES / name).read_text()


def parse(name: str):
    return parse_benchmark_model(text(name), source=name)


def test_every_capture_has_checks_here() -> None:
    assert sorted(p.name for p in CAPTURES.iterdir()) == sorted([IMX, SYNAPTICS, OLD, XIAOMI])


def test_imx8mp_2020_format_with_op_profiling() -> None:
    r = parse(IMX)
    assert r.summary_format == "inference_timings"
    assert (r.init_us, r.first_inference_us, r.warmup_avg_us, r.inference_avg_us) == \
        (2409, 169816, 164822, 162980)
    assert r.inference_count == 50 and r.warmup_count == 4
    assert r.memory_metric == "peak_memory_footprint"
    assert r.init_memory_mb == 4.10156 and r.peak_memory_mb == 10.332
    assert r.periodic_peak_memory_mb is None
    assert r.graph_path == "mobilenet_v1_1.0_224_quant/mobilenet_v1_1.0_224_quant.tflite"
    assert r.model_size_mb == 4.27635 and r.session_init_ms == 2.409
    assert r.threads is None  # not printed in this capture: absent, not 0
    assert r.timed.min_us == 162744 and r.timed.max_us == 163299 and r.timed.std_us == 146
    assert r.warmup_plan.min_iterations == 1 and r.timed_plan.min_iterations == 50
    assert r.timed_plan.max_seconds == 150
    assert not r.failed and r.failure_reason is None
    assert r.unrecognized_lines == () and r.errors == ()

    profile = r.op_profile()
    assert profile.kind == "regular_runs" and profile.graph == "primary"
    assert len(profile.run_order) == 31 and len(profile.top_by_time) == 10
    assert profile.nodes_executed == 31 and profile.nodes_observed == 31
    first = profile.run_order[0]
    assert (first.node_type, first.name) == ("CONV_2D", "[MobilenetV1/MobilenetV1/Conv2d_0/Relu6]:0")
    assert (first.start_ms, first.first_ms, first.avg_ms, first.percent, first.cdf_percent) == \
        (0.010, 7.628, 7.640, 4.689, 4.689)
    assert first.times_called == 1 and first.mem_kb == 0.0
    by_type = {s.node_type: s for s in profile.by_node_type}
    assert by_type["CONV_2D"].count == 15 and by_type["CONV_2D"].avg_ms == 143.812
    assert by_type["CONV_2D"].avg_percent == 88.285
    assert by_type["DEPTHWISE_CONV_2D"].count == 13
    assert sum(s.count for s in profile.by_node_type) == 31
    assert profile.timings.count == 50 and profile.timings.avg_us == 162910
    assert profile.memory.count == 0 and profile.memory.avg_bytes is None

    init = [s for s in r.op_profiles if s.kind == "initialization"]
    assert len(init) == 1 and init[0].run_order[0].node_type == "AllocateTensors"
    assert init[0].timings.all_same and init[0].timings.avg_us == 948


def test_synaptics_newest_format_with_prefixes_and_nnapi() -> None:
    r = parse(SYNAPTICS)
    assert r.inference_avg_us == 1885.74 and r.inference_count == 520
    assert r.init_us == 66002 and r.first_inference_us == 637079 and r.warmup_avg_us == 637079
    assert r.warmup_count == 1
    assert r.warmup.all_same and r.warmup.first_us == r.warmup.avg_us == 637079
    assert r.warmup.std_us == 0
    assert r.memory_metric == "footprint_delta_from_start"
    assert r.init_memory_mb == 7.40234 and r.peak_memory_mb == 7.83203  # line has trailing blanks
    assert r.tensorflow_version == "2.15.0"
    assert r.requested_delegates == ("nnapi",)
    assert r.nnapi_accelerator == "synap-npu"
    assert r.nodes_accelerated == 31 and r.nodes_total == 31 and r.fully_accelerated is True
    assert (r.accelerator_requested, r.accelerator_used, r.accelerator_note) == ("npu", "npu", None)
    assert r.delegations[0].delegate == "TfLiteNnapiDelegate" and r.delegations[0].partitions == 1
    assert r.params["NNAPI accelerators available"] == "synap-npu,nnapi-reference"
    assert r.warnings == ("NNAPI SL driver did not implement "
                          "SL_ANeuralNetworksDiagnostic_registerCallbacks!",)
    assert r.op_profiles == () and r.op_profile() is None
    assert not r.failed


def test_2019_old_format_no_stats() -> None:
    r = parse(OLD)
    assert r.summary_format == "average_inference_timings"
    assert r.warmup_avg_us == 146548 and r.init_us == 12516 and r.inference_avg_us == 133690
    assert r.first_inference_us == 184820  # from the warm-up line's first=, as newer tools print
    assert r.inference_count == 10 and r.warmup_count == 4
    assert r.peak_memory_mb is None and r.memory_metric is None
    assert r.session_init_ms == 12.516
    assert r.params == {"Use nnapi": "0"}
    assert r.warnings == ("nnapi error: unable to open library libneuralnetworks.so",)
    assert not r.failed


def test_xiaomi_failed_nnapi_run() -> None:
    r = parse(XIAOMI)
    assert r.failed
    assert "Failed to apply NNAPI delegate." in r.failure_reason
    assert "ANEURALNETWORKS_OP_FAILED" in r.failure_reason
    assert r.inference_avg_us is None and r.init_us is None and r.inference_count is None
    assert r.summary_format is None
    assert r.threads == 4 and r.nnapi_accelerator == "qti-default"
    assert r.graph_path == "/data/local/tmp/yolov5s_int8_640.tflite"
    assert len(r.errors) == 3


@pytest.mark.parametrize("name", [IMX, SYNAPTICS, OLD, XIAOMI])
def test_crlf_and_trailing_blanks_change_nothing(name: str) -> None:
    mangled = "\r\n".join(line + "  \t" if line.strip() else line
                          for line in text(name).split("\n"))
    assert parse_benchmark_model(mangled, name) == parse(name)


@pytest.mark.parametrize("prefix", ["07-08 15:34:26.202 I/tflite  ( 5395): ",
                                    "07-08 15:34:26.202  5395  5395 I tflite  : "])
def test_logcat_prefixes_are_stripped(prefix: str) -> None:
    logcat = "\n".join(prefix + line for line in text(SYNAPTICS).splitlines())
    r = parse_benchmark_model(logcat)
    assert r.inference_avg_us == 1885.74 and r.nodes_accelerated == 31 and r.peak_memory_mb == 7.83203


NEWEST = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [4]
INFO: Graph: [/data/local/tmp/resnet.tflite]
INFO: Use gpu: [1]
INFO: Loaded model /data/local/tmp/resnet.tflite
INFO: Created TensorFlow Lite delegate for GPU.
INFO: GPU delegate created.
vendor-gpu-driver: compiling 17 kernels
INFO: Replacing 28 out of 31 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions for the whole graph.
INFO: Explicitly applied GPU delegate, and the model graph will be partially executed by the delegate w/ 2 delegate kernels.
INFO: The input model file size (MB): 102.5
INFO: Initialized session in 458.883ms.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=1 curr=2732148 p5=2732148 median=2732148 p95=2732148

INFO: Running benchmark for at least 10 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=10 first=2653894 curr=2709263 min=2640862 max=3025403 avg=2.71985e+06 std=105101 p5=2640862 median=2709263 p95=3025403

INFO: Inference timings in us: Init: 458883, First inference: 2732148, Warmup (avg): 2.73215e+06, Inference (avg): 2.71985e+06
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=286.73 overall=337
INFO: Overall peak memory footprint (MB) via periodic monitoring: 341.5
INFO: Memory status at the end of exeution:
INFO: - VmRSS              : 345 MB
INFO: + RssAnnon           : 300 MB
INFO: + RssFile + RssShmem : 45 MB
"""


def test_scientific_notation_percentiles_partial_gpu_delegation_and_periodic_memory() -> None:
    r = parse_benchmark_model(NEWEST)
    assert r.inference_avg_us == 2.71985e+06 and r.warmup_avg_us == 2.73215e+06
    assert r.timed.avg_us == 2719850.0 and r.timed.median_us == 2709263 and r.timed.p95_us == 3025403
    assert r.warmup.p5_us == 2732148 and r.warmup.count == 1
    assert r.threads == 4 and r.requested_delegates == ("gpu",)
    assert (r.nodes_accelerated, r.nodes_total, r.fully_accelerated) == (28, 31, False)
    assert r.accelerator_used == "gpu" and "28 of 31" in r.accelerator_note
    assert r.delegations[0].partitions == 2
    assert r.periodic_peak_memory_mb == 341.5 and r.end_vm_rss_mb == 345
    assert r.peak_memory_mb == 337 and r.memory_metric == "footprint_delta_from_start"
    assert r.unrecognized_lines == ("line 9: vendor-gpu-driver: compiling 17 kernels",)


def test_android_app_average_format_with_overall_memory() -> None:
    r = parse_benchmark_model(
        "Average inference timings in us: Warmup: 91471, Init: 4108, Inference: 80660.1"
        "Overall max resident set size = 45.2 MB, total malloc-ed size = 12.1 MB, "
        "in-use allocated/mmapped size = 10 MB")
    assert (r.warmup_avg_us, r.init_us, r.inference_avg_us) == (91471, 4108, 80660.1)
    assert r.memory_metric == "max_resident_set_size" and r.peak_memory_mb == 45.2
    assert r.first_inference_us is None and r.inference_count is None  # no stat lines: unknown


def test_tensorflow_log_prefix_and_with_stats_variant() -> None:
    prefix = "2018-09-10 12:36:37.571200: I tensorflow/tools/benchmark/benchmark_model.cc:600] "
    r = parse_benchmark_model(
        prefix + "count=405 first=27236 curr=23132 min=21351 max=37195 avg=24724.8 std=1940\n"
        + prefix + "Average inference timings in us: Warmup: 335337, no stats: 23601, "
                   "with stats: 24724\n")
    assert r.warmup_avg_us == 335337 and r.inference_avg_us == 23601
    assert r.inference_with_stats_avg_us == 24724 and r.init_us is None


def test_stat_lines_without_loop_headers_and_all_same() -> None:
    r = parse_benchmark_model("count=3 curr=900(all same)\n"
                              "count=50 first=1 curr=2 min=1 max=3 avg=2 std=0.5\n"
                              "Inference timings in us: Init: 10, First inference: 900, "
                              "Warmup (avg): 900, Inference (avg): 2\n")
    assert r.warmup.all_same and r.warmup.count == 3 and r.warmup.max_us == 900
    assert r.timed.count == 50 and r.inference_count == 50
    assert r.memory_metric is None and r.peak_memory_mb is None


def test_dry_run_nan_average_is_absent_not_zero() -> None:
    r = parse_benchmark_model("count=0\ncount=0\nInference timings in us: Init: 10, "
                              "First inference: 0, Warmup (avg): -nan, Inference (avg): nan\n")
    assert r.inference_avg_us is None and r.warmup_avg_us is None
    assert r.inference_count == 0 and r.timed.avg_us is None


def test_invoke_failure_after_the_result_line_is_failed() -> None:
    r = parse_benchmark_model(text(IMX).split("Note:")[0] + "\nERROR: Benchmarking failed.\n")
    assert r.failed and r.failure_reason == "Benchmarking failed."
    assert r.inference_avg_us == 162980  # the numbers it printed are still kept


def test_crash_without_result_is_a_failed_run() -> None:
    r = parse_benchmark_model("STARTING!\nGraph: [m.tflite]\nLoaded model m.tflite\n"
                              "Segmentation fault\n")
    assert r.failed and r.failure_reason == "Segmentation fault"


def test_csv_profile_tables() -> None:
    csv = ("Inference timings in us: Init: 1, First inference: 2, Warmup (avg): 2, Inference (avg): 3\n"
           "Operator-wise Profiling Info for Regular Benchmark Runs:\n"
           "============================== Run Order ==============================\n"
           "node type, start, first, avg_ms, %, cdf%, mem KB, times called, name\n"
           "CONV_2D, 0.01, 7.6, 7.64, 4.7%, 4.7%, 0, 1, [conv, with comma]:0\n"
           "\n"
           "============================== Summary by node type ==============================\n"
           "node type, count, avg_ms, avg %, cdf %, mem KB, times called\n"
           "CONV_2D, 15, 143.812, 88.285%, 88.285%, 0, 15\n")
    p = parse_benchmark_model(csv).op_profile()
    assert p.run_order[0].name == "[conv, with comma]:0" and p.run_order[0].avg_ms == 7.64
    assert p.by_node_type[0].count == 15


@pytest.mark.parametrize("bad, why", [
    ("Inference timings in us: Init: 2409, First infer", "cannot read"),
    ("Inference timings in us: Init: abc, First inference: 1, Warmup (avg): 1, Inference (avg): 1",
     "cannot read"),
    ("Inference timings in us: Init: 1, Warmup (avg): 1, Inference (avg): 1", "incomplete"),
    ("count=50 first=162827 curr=16\nInference timings in us: Init: 1, First inference: 1, "
     "Warmup (avg): 1, Inference (avg): 1", "incomplete statistics"),
    ("count=5 first=1 curr=2 min=9 max=3 avg=2 std=1", "inconsistent"),
    ("Peak memory footprint (MB): init=4.1 overall=", "does not have any known form"),
    ("Initialized session in fast", "does not have any known form"),
])
def test_figure_lines_that_do_not_parse_are_errors(bad: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse_benchmark_model("STARTING!\n" + bad + "\n")


def test_capture_cut_short_is_an_error() -> None:
    cut = text(IMX).split("Inference timings")[0]
    with pytest.raises(ParseError, match="cut short") as err:
        parse_benchmark_model(cut, source="imx.txt")
    assert "timed-run statistics" in str(err.value)


def test_garbage_is_an_error() -> None:
    with pytest.raises(ParseError, match="not benchmark_model output"):
        parse_benchmark_model("hello\nworld\n")
    with pytest.raises(ParseError):
        parse_benchmark_model("")


def test_two_runs_in_one_file_are_an_error() -> None:
    with pytest.raises(ParseError, match="more than one"):
        parse_benchmark_model(text(SYNAPTICS) + "\n" + text(SYNAPTICS))


def test_parse_error_names_the_line() -> None:
    with pytest.raises(ParseError) as err:
        parse_benchmark_model("STARTING!\nGraph: [x]\ncount=1 curr=abc\n", source="f.txt")
    assert err.value.line_number == 3 and err.value.source == "f.txt"


def test_sniff() -> None:
    for name in (IMX, SYNAPTICS, OLD, XIAOMI):
        assert sniff(text(name), name) >= 80
    other = CAPTURES.parent / "b_dumpsys_battery" / "qin_f21pro_android14_usb_charging_500mA.txt"
    assert sniff(other.read_text(), other.name) == 0


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_only_raises_parse_error(blob: str) -> None:
    try:
        parse_benchmark_model(blob)
    except ParseError:
        pass


_LINES = text(IMX).splitlines() + text(SYNAPTICS).splitlines()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=40),
       st.lists(st.tuples(st.integers(0, 39), st.integers(0, 200), st.characters()), max_size=5))
def test_shuffled_and_mutated_real_lines_only_raise_parse_error(lines, edits) -> None:
    lines = list(lines)
    for i, pos, ch in edits:
        if i < len(lines):
            lines[i] = lines[i][:pos] + ch + lines[i][pos + 1:]
    try:
        parse_benchmark_model("\n".join(lines))
    except ParseError:
        pass

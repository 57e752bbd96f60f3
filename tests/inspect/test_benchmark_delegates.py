"""benchmark_model: what actually ran is read from the delegate lines, per delegate (issue #11, A2).

The logs below are made up in the formats real benchmark_model builds print (see the real captures in
fixtures/real-device/a_benchmark_model and the module docstring of edgebench.inspect.benchmark_delegates).
"""
from __future__ import annotations

import pytest

from edgebench.inspect.benchmark_delegates import judge
from edgebench.inspect.benchmark_model import parse_benchmark_model

RESULT = """\
The input model file size (MB): 3.5
Initialized session in 120.5ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=6 first=90000 curr=80000 min=79000 max=90000 avg=82000 std=3000

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=80000 curr=80100 min=79500 max=81000 avg=80200 std=300

Inference timings in us: Init: 120500, First inference: 90000, Warmup (avg): 82000, Inference (avg): 80200
"""


def log(*setup: str) -> str:
    return "STARTING!\nLog parameter values verbosely: [0]\nGraph: [/data/local/tmp/m.tflite]\n" + \
        "\n".join(setup) + "\n" + RESULT


XNNPACK_ONLY_UNDER_GPU = log(
    "Use gpu: [1]", "Loaded model /data/local/tmp/m.tflite", "INFO: Initialized TensorFlow Lite runtime.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "INFO: Replacing 64 out of 66 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 3 partitions.")


def test_xnnpack_only_under_use_gpu_is_a_cpu_run() -> None:
    r = parse_benchmark_model(XNNPACK_ONLY_UNDER_GPU)
    assert r.accelerator_requested == "gpu"
    assert r.accelerator_used == "cpu"  # XNNPACK is the CPU, whatever was asked for
    assert r.fully_accelerated is False and r.nodes_accelerated == 0 and r.nodes_total == 66
    assert "TfLiteXNNPackDelegate took 64 of 66 nodes" in r.accelerator_note
    assert r.delegations[0].hardware == "cpu"


def test_gpu_then_xnnpack_counts_only_the_gpu_nodes() -> None:
    r = parse_benchmark_model(log(
        "Use gpu: [1]", "Going to apply 2 delegates one after another.",
        "INFO: Created TensorFlow Lite delegate for GPU.",
        "INFO: Replacing 60 out of 66 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 2 partitions "
        "for the whole graph.",
        "INFO: Replacing 5 out of 8 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 1 partitions "
        "for the whole graph.",
        "INFO: Explicitly applied GPU delegate, and the model graph will be partially executed by the delegate "
        "w/ 2 delegate kernels."))
    assert (r.accelerator_requested, r.accelerator_used, r.fully_accelerated) == ("gpu", "gpu", False)
    assert r.nodes_accelerated == 60 and r.nodes_total == 66  # not 65: XNNPACK's 5 ran on the CPU
    assert [d.hardware for d in r.delegations] == ["gpu", "cpu"]


def test_xnnpack_took_the_whole_graph_but_gpu_was_asked_for() -> None:
    r = parse_benchmark_model(log(
        "Use gpu: [1]", "INFO: Replacing 66 out of 66 node(s) with delegate (TfLiteXNNPackDelegate) node, "
        "yielding 1 partitions for the whole graph."))
    assert r.accelerator_used == "cpu" and r.fully_accelerated is False  # not summed across delegates


def test_nnapi_explicitly_applied_but_not_executed() -> None:
    r = parse_benchmark_model(log(
        "Use NNAPI: [1]", "NNAPI accelerators available: [ipuadaptor,nnapi-reference]",
        "INFO: Created TensorFlow Lite delegate for NNAPI.", "NNAPI delegate created.",
        "Though NNAPI delegate is explicitly applied, the model graph will not be executed by the delegate."))
    assert (r.accelerator_requested, r.accelerator_used, r.fully_accelerated) == ("npu", "cpu", False)
    assert "will not be executed" in r.accelerator_note
    assert r.delegate_verdicts[0].provider == "NNAPI" and r.delegate_verdicts[0].executes == "not"


def test_gpu_completely_executed_without_replacing_line() -> None:
    r = parse_benchmark_model(log(
        "Use gpu: [1]", "INFO: Created TensorFlow Lite delegate for GPU.", "INFO: Initialized OpenCL-based API.",
        "INFO: Created 1 GPU delegate kernels.",
        "Explicitly applied GPU delegate, and the model graph will be completely executed by the delegate."))
    assert (r.accelerator_used, r.fully_accelerated, r.accelerator_note) == ("gpu", True, None)


def test_nnapi_reference_device_is_the_cpu() -> None:
    r = parse_benchmark_model(log(
        "Use NNAPI: [1]", "NNAPI accelerator name: [nnapi-reference]",
        "VERBOSE: Replacing 31 out of 31 node(s) with delegate (TfLiteNnapiDelegate) node, yielding 1 partitions "
        "for the whole graph."))
    assert r.delegations[0].hardware == "cpu"
    finding = judge("npu", r.delegations, r.delegate_verdicts)  # what the engine asks with --use_nnapi
    assert finding.used == "cpu" and finding.fully_accelerated is False
    assert "nnapi-reference" in finding.note


def test_old_build_without_node_total_does_not_say_fully() -> None:
    r = parse_benchmark_model(log(
        "Use gpu : [1]",
        "Replacing 5 node(s) with delegate (TfLiteGpuDelegate) node, yielding 1 partitions."))
    assert r.accelerator_used == "gpu" and r.nodes_accelerated == 5
    assert r.fully_accelerated is None and "no node total" in r.accelerator_note


def test_unknown_external_delegate_is_not_guessed() -> None:
    r = parse_benchmark_model(log(
        "External delegate path: [/usr/lib/libvx_delegate.so]",
        "Replacing 31 out of 31 node(s) with delegate (Vx Delegate) node, yielding 1 partitions.",
        "Explicitly applied EXTERNAL delegate, and the model graph will be completely executed by the delegate."))
    assert r.accelerator_requested is None and r.accelerator_used is None and r.fully_accelerated is None
    assert "does not know" in r.accelerator_note
    finding = judge("npu", r.delegations, r.delegate_verdicts)
    assert finding.used is None and "Vx Delegate" in finding.note


def test_silent_log_says_nothing_about_the_accelerator() -> None:
    r = parse_benchmark_model(RESULT)
    assert r.accelerator_requested is None and r.accelerator_used is None
    finding = judge("gpu", r.delegations, r.delegate_verdicts)
    assert finding.used is None and finding.fully_accelerated is None and "--verbose=true" in finding.note


def test_cpu_run_with_xnnpack_is_cpu() -> None:
    r = parse_benchmark_model(log(
        "Use xnnpack: [1]", "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
        "INFO: Replacing 64 out of 66 node(s) with delegate (TfLiteXNNPackDelegate) node, yielding 3 partitions.",
        "Explicitly applied XNNPACK delegate, and the model graph will be partially executed by the delegate "
        "w/ 3 delegate kernels."))
    assert (r.accelerator_requested, r.accelerator_used, r.fully_accelerated) == ("cpu", "cpu", None)


@pytest.mark.parametrize("prefix, newline", [("INFO: ", "\r\n"), ("", "\r\n"),
                                             ("07-08 15:34:26.202  5395  5395 I tflite  : ", "\n")])
def test_prefixes_and_crlf_change_nothing(prefix: str, newline: str) -> None:
    mangled = newline.join(prefix + line if line else line for line in XNNPACK_ONLY_UNDER_GPU.split("\n"))
    assert parse_benchmark_model(mangled) == parse_benchmark_model(XNNPACK_ONLY_UNDER_GPU)

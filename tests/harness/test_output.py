import json

import pytest

from edgebench.errors import ParseError
from edgebench.harness.output import parse_harness_output


def _lines(*objs):
    return "\n".join(json.dumps({"schema": 1, **o}) for o in objs) + "\n"


START = {"type": "start", "runner_version": "1", "argv": [], "boottime_ns": 1, "pid": 1}
RUNTIME = {"type": "runtime", "library_path": "/x/libLiteRt.so", "library_sha256": "ab", "api_generation": "2.2+"}
SETUP = {"type": "setup", "inputs": [], "outputs": [], "threads": 1, "accelerator_requested": "gpu",
         "accelerator_used": "cpu", "fallback_reason": "no GPU adapter", "fully_accelerated": None}
INIT = {"type": "init", "stages_us": {"load_model": 10.0}, "total_us": 1500.0}
END_OK = {"type": "end", "status": "ok", "exit_code": 0}


def _ok_run(n=3):
    runs = [{"type": "run", "index": i, "latency_us": 10.0 + i, "start_ns": 1000 * i} for i in range(n)]
    summary = {"type": "summary", "count": n, "min_us": 10.0, "median_us": 11.0, "max_us": 12.0}
    return [START, RUNTIME, SETUP, INIT, {"type": "warmup", "index": 0, "latency_us": 50.0, "start_ns": 0},
            *runs, {"type": "output", "checksum": "ff"}, summary,
            {"type": "resources", "peak_rss_kb": 900, "threads_observed": 2}, END_OK]


def test_complete_output_is_read():
    out = parse_harness_output(_lines(*_ok_run()))
    assert out.ok and len(out.timed) == 3 and out.first_inference_us == 50.0
    assert out.accelerator_used == "cpu" and out.fallback_reason == "no GPU adapter"
    assert out.init_total_us == 1500.0 and out.peak_rss_kb == 900


def test_null_checksum_is_accepted_as_the_protocol_allows():
    """PROTOCOL.md: `checksum` is null when a device-memory output cannot be mapped (it failed the whole run)."""
    lines = [{**line, "checksum": None, "outputs": [{"index": 0, "checksum": None}]} if line["type"] == "output"
             else line for line in _ok_run()]
    out = parse_harness_output(_lines(*lines))
    assert out.ok and out.output_checksum is None and len(out.timed) == 3


def test_runner_hashes_and_cpus_are_read():
    lines = [{**line, "model_sha256": "cd" * 32, "input_source": "seeded", "input_seed": 1} if line["type"] == "setup"
             else {**line, "cpus_seen": [6, 4]} if line["type"] == "resources"
             else {**line, "cpu_affinity": [4, 5, 6, 7]} if line["type"] == "start" else line for line in _ok_run()]
    out = parse_harness_output(_lines(*lines))
    assert out.model_sha256 == "cd" * 32 and out.library_sha256 == "ab" and out.input_seed == 1
    assert out.cpus_seen == (4, 6) and out.cpu_affinity == (4, 5, 6, 7)
    old = parse_harness_output(_lines(*_ok_run()))  # runner 1.0.0: no cpus_seen, no model hash here
    assert old.cpus_seen is None and old.model_sha256 is None


def test_error_output_is_not_ok_and_keeps_the_message():
    err = {"type": "error", "stage": "load_model", "code": "not_a_model", "message": "bad flatbuffer"}
    out = parse_harness_output(_lines(START, RUNTIME, err, {"type": "end", "status": "failed", "exit_code": 4}))
    assert not out.ok and out.error.code == "not_a_model" and out.exit_code == 4


@pytest.mark.parametrize("mutate, message", [
    (lambda L: L[:-1], "no end line"),
    (lambda L: L[1:], "no start line"),
    (lambda L: [*L[:5], {**L[5], "index": 7}, *L[6:]], "out of order"),
    (lambda L: [*L[:5], {**L[5], "latency_us": "fast"}, *L[6:]], "wrong type"),
    (lambda L: [*L[:5], {"type": "mystery"}, *L[5:]], "unknown line type"),
    (lambda L: [*L[:-2], {**L[-2], "peak_rss_kb": True}, L[-1]], "wrong type"),
    (lambda L: [*L[:-2], {**L[-2], "cpus_seen": "0-3"}, L[-1]], "resources.cpus_seen must be a list of CPU numbers"),
    (lambda L: [*L[:-2], {**L[-2], "cpus_seen": [0, True]}, L[-1]], "resources.cpus_seen must be a list"),
    (lambda L: [*L[:-4], {"type": "output", "checksum": 17}, *L[-3:]], "output.checksum has the wrong type"),
])
def test_contract_violations_are_parse_errors(mutate, message):
    with pytest.raises(ParseError, match=message):
        parse_harness_output(_lines(*mutate(_ok_run())))


def test_summary_count_must_match_run_lines():
    lines = _ok_run()
    lines = [{**l, "count": 5} if l["type"] == "summary" else l for l in lines]
    with pytest.raises(ParseError, match="summary count 5"):
        parse_harness_output(_lines(*lines))


def test_other_schema_version_says_rebuild():
    with pytest.raises(ParseError, match="rebuild the harness"):
        parse_harness_output(json.dumps({"schema": 2, "type": "start"}))


def test_empty_and_garbage():
    with pytest.raises(ParseError, match="empty"):
        parse_harness_output("")
    with pytest.raises(ParseError, match="not a JSON line"):
        parse_harness_output("Segmentation fault\n")

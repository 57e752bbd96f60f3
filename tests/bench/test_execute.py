"""A battery run's runner output too large to analyse is refused with the way out, before it exhausts memory."""
from types import SimpleNamespace

import pytest

from edgebench.bench import execute
from edgebench.errors import ParseError


def test_a_huge_per_inference_output_is_refused_with_the_way_out(tmp_path, monkeypatch):
    line = '{"schema":1,"type":"run","index":0,"latency_us":3.6,"start_ns":1}\n'
    (tmp_path / "runner.jsonl").write_text(line * 50)
    run = SimpleNamespace(out_dir=tmp_path, exit_code=0, stderr_tail="")
    with pytest.raises(ParseError, match=r"50 lines, one per inference.*--inference-rate"):
        execute.read_pulled_run(run, sysroot="", max_runner_bytes=1000)
    # Latency runs (bounded by their run count) keep no such limit: the same file is read.
    with pytest.raises(ParseError, match="run index 0 out of order"):  # parsed, not refused for its size
        execute.read_pulled_run(run, sysroot="")

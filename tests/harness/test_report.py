import json
from pathlib import Path

from edgebench.cli.main import main
from edgebench.inspect import inspect_file

from ..conftest import REAL_MODELS


def test_inspect_reads_pulled_harness_output(workspace, capsys):
    model = REAL_MODELS / "tflm_simple_add_model.tflite"
    assert main(["push-and-run", str(model), "--protocol", "smoke", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    runner_file = Path(workspace) / "sessions" / record["session"] / record["run_id"] / "runner.jsonl"
    result = inspect_file(runner_file)
    assert result.format == "edgebench_harness"
    data = result.data
    assert not data.failed and data.inference_count == record["latency_us"]["count"]
    assert data.latency.median_us == record["latency_us"]["median"]
    assert data.peak_rss_kb == record["peak_rss_kb"]
    assert [i["dtype"] for i in data.inputs] == ["int8", "int8"]  # the ADD model's two inputs
    assert data.init_us is not None and data.init_us > 0

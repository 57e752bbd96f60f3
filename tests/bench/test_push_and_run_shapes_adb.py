"""--input-shape over adb: the shape reaches the runner on a (virtual) device through the adb shell
and the device's mksh driver, and the shape it ran is recorded."""
from __future__ import annotations

import json
from pathlib import Path

from edgebench.cli.main import main
from tests.virtual.helpers import cli_lab

DYNAMIC = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "eb_dynamic_image_conv.tflite"


def test_a_given_shape_runs_on_a_virtual_device(tmp_path, harness_cache, capsys):
    workspace = tmp_path / "ws"
    with cli_lab(workspace, harness_cache) as (_adb, serials):
        capsys.readouterr()  # the start lines
        code = main(["--workspace", str(workspace), "push-and-run", str(DYNAMIC), "--target", serials[0],
                     "--protocol", "smoke", "--runs", "5", "--input-shape", "image=1,24,20,3", "--json"])
        (record,) = json.loads(capsys.readouterr().out)
    assert code == 0 and record["status"] in ("ok", "invalid"), record
    assert record["input_shapes"] == [{"name": "image", "signature": [-1, -1, -1, 3], "shape": [1, 24, 20, 3],
                                       "source": "given"}]

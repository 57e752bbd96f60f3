"""Model file names are data, never shell: hostile names run as models and nothing else."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from edgebench.cli.main import main

from ..conftest import FIXTURES, REAL_MODELS

HOSTILE = ["x; touch pwned #.tflite", "a b.tflite", "q'uote\"s.tflite", "$(touch pwned2).tflite",
           "`touch pwned3`.tflite", "-rf.tflite", "new\nline.tflite"]


# Different models (runs are keyed by model bytes), each small and runnable on LiteRT 2.3.
SOURCES = [REAL_MODELS / "tflm_simple_add_model.tflite", REAL_MODELS / "tflm_hello_world_float.tflite",
           REAL_MODELS / "tflm_hello_world_int8.tflite", FIXTURES / "models" / "eb_uint8_image_mean.tflite",
           FIXTURES / "models" / "eb_mixed_int32_int64_bool.tflite", FIXTURES / "models" / "eb_float16_input.tflite",
           FIXTURES / "models" / "eb_lstm_unrolled.tflite"]


def hostile_copies(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for name, source in zip(HOSTILE, SOURCES, strict=True):
        path = folder / name
        shutil.copyfile(source, path)
        copies.append(path)
    return copies


def pwned_files(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            found += [os.path.join(dirpath, f) for f in files if f.startswith("pwned")]
    return found


def test_hostile_names_run_as_models_only_on_the_local_target(workspace, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    models = hostile_copies(tmp_path / "models")
    code = main(["push-and-run", *map(str, models), "--protocol", "smoke", "--runs", "10", "--keep", "--json"])
    records = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted(r["model"] for r in records) == sorted(HOSTILE)
    assert all(r["status"] == "ok" for r in records)
    assert pwned_files(tmp_path, Path(workspace)) == []
    # The report escapes them too.
    out = tmp_path / "r.html"
    assert main(["push-and-run", str(models[0]), "--protocol", "smoke", "--runs", "10", "--report", str(out)]) == 0
    assert "x; touch pwned #.tflite" in out.read_text()
    assert pwned_files(tmp_path, Path(workspace)) == []

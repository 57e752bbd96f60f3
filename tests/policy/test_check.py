"""`policy check`: the files a policy names against a model folder, by sha256."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from edgebench.errors import UsageError
from edgebench.policy.check import check_policy, read_policy


def _policy(folder: Path) -> dict[str, Any]:
    variants = []
    for name, content in (("a.tflite", b"model a"), ("b.tflite", b"model b")):
        (folder / name).write_bytes(content)
        variants.append({"name": name[0], "file": name, "sha256": hashlib.sha256(content).hexdigest()})
    return {"schema_version": 1, "kind": "edgebench-policy", "variants": variants}


def test_the_same_files_pass(tmp_path: Path) -> None:
    result = check_policy(_policy(tmp_path), tmp_path)
    assert result.ok and [f.outcome for f in result.files] == ["ok", "ok"] and result.extra == ()


def test_a_changed_a_missing_a_renamed_and_an_extra_file_are_reported(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    (tmp_path / "a.tflite").write_bytes(b"model a, retrained")
    (tmp_path / "b.tflite").rename(tmp_path / "b-renamed.tflite")
    (tmp_path / "c.tflite").write_bytes(b"model c")
    (tmp_path / "notes.txt").write_text("not a model")
    result = check_policy(policy, tmp_path)
    assert not result.ok
    assert [(f.file, f.outcome) for f in result.files] == [("a.tflite", "changed"), ("b.tflite", "found_elsewhere")]
    assert "b-renamed.tflite" in result.files[1].detail
    assert result.extra == ("b-renamed.tflite", "c.tflite")
    (tmp_path / "b-renamed.tflite").unlink()
    assert check_policy(policy, tmp_path).files[1].outcome == "missing"


def test_a_file_that_is_not_a_policy_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps({"rows": []}))
    with pytest.raises(UsageError, match="is not a policy"):
        read_policy(tmp_path / "p.json")
    (tmp_path / "p.json").write_text(json.dumps({"kind": "edgebench-policy", "schema_version": 99}))
    with pytest.raises(UsageError, match="schema version 99"):
        read_policy(tmp_path / "p.json")
    with pytest.raises(UsageError, match="is not a folder"):
        check_policy(_policy(tmp_path), tmp_path / "nowhere")

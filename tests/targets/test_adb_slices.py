"""The cleanup command of a killed slice (targets/adb_slices.py): what it removes, run by a real shell, and its
length, which older adbd versions cap at 4 KB (adb's v1 payload)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from edgebench.targets.adb_slices import remove_command


def test_it_removes_the_named_folders_and_files_and_nothing_else(tmp_path: Path) -> None:
    session = tmp_path / "runs" / "20261207-035721-42357d"
    runs = [session / f"{i:016x}" for i in range(64)]
    for run in runs:
        (run / "out").mkdir(parents=True)
        (run / "out" / "runner.jsonl").write_text("{}\n")
    slice_files = [session / f"slice-0a1b2c3d.sh{end}" for end in ("", ".log", ".run.tar", ".run.log")]
    for f in slice_files[:3]:  # one of them was never made: no error
        f.write_text("x")
    kept = [session / "ffffffffffffffff", tmp_path / "runs" / "other-session" / "0000000000000000"]
    for k in kept:
        k.mkdir(parents=True)
    gone = tmp_path / "no-such-folder" / "x"  # a folder that is not there: the rest is still removed
    command = remove_command([str(p) for p in (*slice_files, gone, *runs)])
    assert len(command.encode()) < 4096 - 100, len(command)
    assert len(" ".join(str(p) for p in runs)) > 4096  # by full path it would not fit
    for shell in ("/bin/sh", "/bin/bash"):
        result = subprocess.run([shell, "-c", command], capture_output=True, text=True)
        assert result.returncode == 0 and result.stderr == "", (shell, result.stderr)
    assert sorted(p.name for p in session.iterdir()) == ["ffffffffffffffff"]
    assert all(k.is_dir() for k in kept)


def test_names_with_spaces_and_quotes_are_quoted(tmp_path: Path) -> None:
    folder = tmp_path / "a b'c"
    target = folder / "run $(touch pwned)"
    target.mkdir(parents=True)
    subprocess.run(["/bin/sh", "-c", remove_command([str(target)])], check=True, cwd=tmp_path)
    assert not target.exists() and folder.is_dir()
    assert not (tmp_path / "pwned").exists() and not (folder / "pwned").exists()

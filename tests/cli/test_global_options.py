"""--workspace, --debug and --verbose work before the command and after it."""
from __future__ import annotations

import pytest

from edgebench.cli.main import main


@pytest.mark.parametrize("where", ["before", "after"])
def test_workspace_is_taken_before_or_after_the_command(tmp_path, monkeypatch, capsys, where):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDGEBENCH_WORKSPACE", raising=False)
    ws = tmp_path / "chosen"
    argv = ["--workspace", str(ws), "results", "list", "--json"] if where == "before" else \
        ["results", "list", "--json", "--workspace", str(ws)]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert (ws / "results.sqlite").is_file() and not (tmp_path / "edgebench-work").exists()


def test_verbose_and_debug_are_listed_in_every_commands_help(capsys):
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    out = capsys.readouterr().out
    assert "--verbose" in out and "--debug" in out and "--workspace" in out

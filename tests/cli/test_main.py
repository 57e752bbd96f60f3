"""The entry point: help for every command works, and the light commands never import TensorFlow."""
from __future__ import annotations

import subprocess
import sys

import pytest

from edgebench.cli.main import COMMANDS, main


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_working_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"edgebench {command}" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--help"], ["devices", "--json"]])
def test_help_and_devices_never_import_tensorflow(argv, tmp_path):
    code = ("import sys; from edgebench.cli.main import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras'))\n"
            "print('HEAVY', bad)")
    env = {"EDGEBENCH_WORKSPACE": str(tmp_path), "ADB_SERVER_SOCKET": "tcp:127.0.0.1:1",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60).stdout
    assert "HEAVY []" in out, out

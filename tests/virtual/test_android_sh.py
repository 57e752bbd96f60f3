"""The device's sh: Debian's mksh with Android's message form, or mksh unchanged when not recognised."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from edgebench.virtual.android_sh import HOST_MKSH, install_sh, without_prefixes


@pytest.mark.skipif(not os.access(HOST_MKSH, os.X_OK), reason="no Debian mksh on this host")
def test_patched_mksh_prints_errors_without_debians_prefix(tmp_path: Path) -> None:
    sh = tmp_path / "sh"
    if not install_sh(sh):
        pytest.skip("this host's mksh is not the x86-64 Debian build the patch recognises (kept unchanged)")
    out = subprocess.run([str(sh), "-c", "no_such_command; echo $?"], capture_output=True)
    assert out.stderr == f"{sh}: no_such_command: inaccessible or not found\n".encode()
    assert out.stdout == b"127\n"


def test_an_unrecognised_binary_is_left_alone(tmp_path: Path) -> None:
    assert without_prefixes(b"\x7fELF\x02\x01" + b"\0" * 100) is None
    assert without_prefixes(b"#!/bin/sh\necho E: \n") is None
    fake = tmp_path / "mksh"
    fake.write_bytes(b"not an ELF file")
    assert install_sh(tmp_path / "sh", fake) is False and os.readlink(tmp_path / "sh") == str(fake)

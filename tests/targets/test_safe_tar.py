"""Run folders pulled from a device are extracted safely on every supported Python, with or without
tarfile's "data" filter (absent before 3.11.4, e.g. Debian 12's Python 3.11.2)."""
from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from edgebench.targets import safe_tar
from edgebench.targets.safe_tar import UnsafeArchiveError, extract_tar

MODES = [False] + ([True] if safe_tar.HAS_DATA_FILTER else [])
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _add(tar: tarfile.TarFile, name: str, *, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
         linkname: str = "", mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = mode
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def _archive(path: Path, members: list[dict]) -> Path:
    with tarfile.open(path, "w") as tar:
        for member in members:
            _add(tar, **member)
    return path


BENIGN = [dict(name="./", kind=tarfile.DIRTYPE, mode=0o755),
          dict(name="./runner.jsonl", data=b'{"type":"summary"}\n'),
          dict(name="./sub/", kind=tarfile.DIRTYPE, mode=0o755),
          dict(name="./sub/samples.jsonl", data=b"1\n", mode=0o6777),  # setuid + world-writable bits
          dict(name="./latest", kind=tarfile.SYMTYPE, linkname="sub/samples.jsonl"),
          dict(name="./copy", kind=tarfile.LNKTYPE, linkname="./runner.jsonl")]

MALICIOUS = {
    "absolute path": [dict(name="/tmp/edgebench-escape", data=b"x")],
    "dot-dot": [dict(name="./../escape", data=b"x")],
    "symlink out": [dict(name="./out", kind=tarfile.SYMTYPE, linkname="../..")],
    "absolute symlink": [dict(name="./etc", kind=tarfile.SYMTYPE, linkname="/etc")],
    "write through an inner link": [dict(name="./here", kind=tarfile.SYMTYPE, linkname="."),
                                    dict(name="./here/../../escape", data=b"x")],
    "link chain": [dict(name="./a", kind=tarfile.SYMTYPE, linkname="b/c"),
                   dict(name="./b", kind=tarfile.SYMTYPE, linkname="..")],
    "hard link out": [dict(name="./passwd", kind=tarfile.LNKTYPE, linkname="../../etc/passwd")],
    "device": [dict(name="./null", kind=tarfile.CHRTYPE)],
    "fifo": [dict(name="./pipe", kind=tarfile.FIFOTYPE)],
}


@pytest.mark.parametrize("use_data_filter", MODES, ids=lambda v: "data_filter" if v else "checked")
def test_a_run_folder_is_extracted_with_files_links_and_no_archive_modes(tmp_path, use_data_filter):
    dest = tmp_path / "dest"
    dest.mkdir()
    extract_tar(_archive(tmp_path / "ok.tar", BENIGN), dest, use_data_filter=use_data_filter)
    assert (dest / "runner.jsonl").read_bytes() == b'{"type":"summary"}\n'
    assert (dest / "latest").read_bytes() == b"1\n" and (dest / "latest").is_symlink()
    assert (dest / "copy").read_bytes() == b'{"type":"summary"}\n'
    mode = (dest / "sub" / "samples.jsonl").stat().st_mode
    assert not mode & 0o6000 and not mode & 0o002, oct(mode)


@pytest.mark.parametrize("use_data_filter", MODES, ids=lambda v: "data_filter" if v else "checked")
@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_a_member_escaping_the_folder_is_refused_by_name(tmp_path, case, use_data_filter):
    dest = tmp_path / "a" / "b" / "dest"
    dest.mkdir(parents=True)
    archive = _archive(tmp_path / "evil.tar", MALICIOUS[case])
    with pytest.raises(UnsafeArchiveError, match="refused") as caught:
        extract_tar(archive, dest, use_data_filter=use_data_filter)
    assert str(archive) in str(caught.value)
    assert not (tmp_path / "a" / "escape").exists() and not (tmp_path / "a" / "b" / "escape").exists()
    assert not Path("/tmp/edgebench-escape").exists()


@pytest.mark.skipif(not SYSTEM_PYTHON.is_file(), reason="no /usr/bin/python3 on this machine")
def test_the_system_python_extracts_and_refuses_for_real(tmp_path):
    # Debian 12's own interpreter (3.11.2, no data filter): the fallback runs there, not a simulation.
    toolchain = Path(safe_tar.__file__).resolve().parents[2]
    ok = _archive(tmp_path / "ok.tar", BENIGN)
    evil = _archive(tmp_path / "evil.tar", MALICIOUS["write through an inner link"])
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    script = (
        "import sys, tarfile; sys.path.insert(0, sys.argv[1])\n"
        "from edgebench.targets.safe_tar import extract_tar, UnsafeArchiveError, HAS_DATA_FILTER\n"
        "print('data_filter', HAS_DATA_FILTER, sys.version.split()[0])\n"
        "extract_tar(sys.argv[2], sys.argv[3])\n"
        "try:\n    extract_tar(sys.argv[4], sys.argv[5])\nexcept UnsafeArchiveError as e:\n    print('refused:', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([str(SYSTEM_PYTHON), "-I", "-c", script, str(toolchain), str(ok), str(tmp_path / "d1"),
                           str(evil), str(tmp_path / "d2")], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "refused:" in proc.stdout and "here/../../escape" in proc.stdout
    assert (tmp_path / "d1" / "runner.jsonl").is_file()
    assert not (tmp_path / "escape").exists()
    print(proc.stdout)

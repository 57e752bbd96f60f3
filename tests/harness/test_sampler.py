"""edgebench_sampler: samples kept in memory, written on SIGTERM/SIGINT, raw text, null when unreadable."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from edgebench.harness.samples import read_samples


def start(build, tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "samples.jsonl"
    proc = subprocess.Popen([str(build.sampler_path), "--out", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 5
    while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.005)  # the header is flushed once the signal handlers are in place
    return proc, out


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    return proc.wait(timeout=10)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_samples_are_buffered_then_written_on_sigterm(host_build, tmp_path):
    node = tmp_path / "capacity"
    node.write_text("87\n")
    (tmp_path / "a_directory").mkdir()
    proc, out = start(host_build, tmp_path, "--interval-ms", "20", str(node), str(tmp_path / "missing"),
                      str(tmp_path / "a_directory"))
    time.sleep(0.25)
    assert len(out.read_text().splitlines()) == 1  # only the header: samples stay in memory
    node.write_text("86\n")
    time.sleep(0.25)
    assert stop(proc) == 0
    got = lines(out)
    header, samples, end = got[0], got[1:-1], got[-1]
    assert header["type"] == "sampler" and header["interval_ms"] == 20 and header["root"] == ""
    assert header["files"] == [str(node), str(tmp_path / "missing"), str(tmp_path / "a_directory")]
    assert all(s["type"] == "sample" for s in samples)
    assert end == {**end, "type": "sampler_note", "event": "end", "signal": "TERM", "samples": len(samples)}
    values = [s["values"][0] for s in samples]
    assert values[0] == "87" and values[-1] == "86"  # raw text, trailing newline trimmed
    assert all(s["values"][1] is None and s["values"][2] is None for s in samples)
    stamps = [s["t_ns"] for s in samples]
    assert stamps == sorted(stamps) and header["start_ns"] <= stamps[0] < end["t_ns"]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert 15 <= len(samples) <= 40 and min(gaps) >= 5e6  # a 20 ms schedule, not a busy loop


def test_sigint_also_writes(host_build, tmp_path):
    node = tmp_path / "temp"
    node.write_text("41000")
    proc, out = start(host_build, tmp_path, "--interval-ms", "50", str(node))
    time.sleep(0.12)
    assert stop(proc, signal.SIGINT) == 0
    got = lines(out)
    assert got[-1]["signal"] == "INT" and got[1]["values"] == ["41000"]


def test_full_buffer_is_written_early_and_recorded(host_build, tmp_path):
    node = tmp_path / "big"
    node.write_text("x" * 300)
    proc, out = start(host_build, tmp_path, "--interval-ms", "5", "--max-bytes", "1024", str(node))
    time.sleep(0.3)
    assert stop(proc) == 0
    got = lines(out)
    flushes = [g for g in got if g["type"] == "sampler_note" and g["event"] == "buffer_flush"]
    samples = [g for g in got if g["type"] == "sample"]
    assert flushes and got[-1]["buffer_flushes"] == len(flushes)
    assert sum(f["samples"] for f in flushes) <= len(samples) == got[-1]["samples"]
    assert all(s["values"] == ["x" * 300] for s in samples)  # no sample cut in half


def test_root_prefix_and_files_from(host_build, tmp_path):
    root = tmp_path / "sysroot"
    (root / "sys" / "class" / "thermal" / "thermal_zone0").mkdir(parents=True)
    (root / "sys" / "class" / "thermal" / "thermal_zone0" / "temp").write_text("38500\n")
    listing = tmp_path / "nodes.txt"
    listing.write_text("/sys/class/thermal/thermal_zone0/temp\n\n/sys/class/thermal/thermal_zone9/temp\n")
    proc, out = start(host_build, tmp_path, "--interval-ms", "50", "--root", str(root),
                      "--files-from", str(listing))
    time.sleep(0.12)
    assert stop(proc) == 0
    got = lines(out)
    assert got[0]["files"] == ["/sys/class/thermal/thermal_zone0/temp", "/sys/class/thermal/thermal_zone9/temp"]
    assert got[1]["values"] == ["38500", None]
    # The host's reader takes the file as it is.
    parsed = read_samples(out)
    assert {(s.channel, s.value_text) for s in parsed} >= {("/sys/class/thermal/thermal_zone0/temp", "38500")}


@pytest.mark.parametrize("args", [(), ("--interval-ms", "0", "--out", "x"), ("--bogus",)])
def test_usage_errors(host_build, args):
    proc = subprocess.run([str(host_build.sampler_path), *args], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 2 and "edgebench_sampler" in proc.stderr

"""The slice protocol: the file the host writes for slice.sh, and the frames slice.sh sends back."""
from __future__ import annotations

import io
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from edgebench.errors import DeviceError
from edgebench.package_files import SLICE_SCRIPT
from edgebench.targets import slice_protocol
from edgebench.targets.slice_loop import save_log_windows
from edgebench.targets.slice_protocol import (CoolingDown, DeviceCooldown, FrameReader, RunFinished, RunStarted,
                                              SliceEnded, SliceEntry, SliceLog, slice_file_text)


def _tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _stream() -> tuple[bytes, bytes, str]:
    tar = _tar_of({"runner.jsonl": b'{"type":"run"}\n' * 50, "bin.dat": bytes(range(256)) * 8})
    log = "driver.sh: a line\r\nwith CRLF and \xe9\n"
    logcat = "12-06 15:13:01.123  1  1 I edgebench-driver: workload start: engine runner, run slice-run-1\n"
    data = (b"@@edgebench-slice start 1\n"
            + f"@@edgebench-slice run 1 0 123 {len(tar)} {len(log.encode())}\n".encode() + tar + log.encode()
            + b"@@edgebench-slice cooldown 2\n@@edgebench-slice start 2\n"
            + b"@@edgebench-slice run 2 137 5 0 0\n"
            + f"@@edgebench-slice log {len(logcat)}\n".encode() + logcat.encode()
            + b"@@edgebench-slice end 2\n")
    return data, tar, log


def _plain(events: list) -> list:  # type: ignore[type-arg]
    """Events with each run's tar read out of its spool file (file objects do not compare)."""
    return [e if not isinstance(e, RunFinished) else (e.index, e.exit_code, e.wall_seconds,
                                                       e.tar.read() if e.tar is not None else None, e.driver_output)
            for e in events]


def test_frames_read_the_same_whatever_pieces_they_arrive_in(monkeypatch):
    data, tar, log = _stream()
    whole = _plain(FrameReader("serial-1", "sh slice.sh").feed(data))
    monkeypatch.setattr(slice_protocol, "SPOOL_IN_MEMORY_BYTES", 100)  # a tar larger than memory goes to a file
    for size in (1, 7, 4096):
        reader = FrameReader("serial-1", "sh slice.sh")
        events = []
        for at in range(0, len(data), size):
            events += reader.feed(data[at:at + size])
        assert _plain(events) == whole
        assert reader.ended
    assert whole[0] == RunStarted(1)
    assert whole[1] == (1, 0, 1.23, tar, log)
    assert whole[2:4] == [CoolingDown(2), RunStarted(2)]
    assert whole[4] == (2, 137, 0.05, None, "")
    assert isinstance(whole[5], SliceLog) and "slice-run-1" in whole[5].text
    assert whole[6] == SliceEnded(2)


def test_a_chatty_driver_keeps_its_last_words_and_the_stream_stays_in_step():
    noise = b"x" * (200 * 1024) + b"\nthe reason\n"
    data = (f"@@edgebench-slice run 1 2 5 0 {len(noise)}\n".encode() + noise + b"@@edgebench-slice end 1\n")
    events = FrameReader("s", "c").feed(data)
    finished = events[0]
    assert isinstance(finished, RunFinished) and finished.driver_output.endswith("the reason\n")
    assert len(finished.driver_output) <= slice_protocol.DRIVER_OUTPUT_KEPT
    assert events[1] == SliceEnded(1)


@pytest.mark.parametrize("garbage", [b"Segmentation fault\n", b"@@edgebench-slice run 1 x 0 0 0\n",
                                     b"@@edgebench-slice start\n", b"@@edgebench-slice bogus 1\n",
                                     b"x" * 300])
def test_output_that_is_not_a_frame_is_refused_naming_device_and_command(garbage):
    with pytest.raises(DeviceError) as caught:
        FrameReader("serial-9", "sh /data/local/tmp/edgebench/slice.sh F").feed(garbage)
    assert "serial-9" in str(caught.value) and "slice.sh" in str(caught.value)
    assert "--no-batch" in str(caught.value)


def test_slice_file_quotes_every_word_so_the_shell_passes_them_through_unchanged(tmp_path: Path):
    """slice.sh sources the file and hands each run's words to the driver: hostile words arrive intact."""
    fake_driver = tmp_path / "driver.sh"
    # A stand-in driver that records its environment and arguments (this test is about quoting).
    fake_driver.write_text('mkdir -p "$1/out"; { echo "dir=$1"; echo "env=$EDGEBENCH_X"; shift 2; '
                           'for a in "$@"; do echo "arg=$a"; done; } > "$1/out/args.txt"; exit 3\n')
    words = ["--model", "/x/it's a \"model\" $(rm -rf /).tflite", "--threads", "2", "", "a\tb"]
    entry = SliceEntry("s/r1", words, {"EDGEBENCH_X": "v a'l;ue"}, 10.0)
    slice_file = tmp_path / "slice.txt"
    run_dir = tmp_path / "runs" / "s" / "r1"
    slice_file.write_text(slice_file_text([entry], driver=str(fake_driver), run_dir_of={"s/r1": str(run_dir)},
                                          output="dir", keep=True, cooldown=DeviceCooldown("none"), logcat=False))
    out = subprocess.run(["sh", str(SLICE_SCRIPT), str(slice_file)], capture_output=True, timeout=30).stdout
    events = FrameReader("local", "slice").feed(out)
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert [e.exit_code for e in finished] == [3]
    lines = (run_dir / "out" / "args.txt").read_text().splitlines()
    assert lines == [f"dir={run_dir}", "env=v a'l;ue", *(f"arg={w}" for w in words[:5])] + ["arg=a\tb"]


def test_a_cooldown_mode_the_device_does_not_know_is_refused():
    with pytest.raises(ValueError):
        slice_file_text([], driver="d", run_dir_of={}, output="tar", keep=False, cooldown=DeviceCooldown("maybe"),
                        logcat=False)


def test_the_slice_log_is_split_into_each_runs_window(tmp_path: Path):
    folders = [tmp_path / "a", tmp_path / "b"]
    for f in folders:
        f.mkdir()
    log = ("12-06 10:00:00.000  1  1 I healthd: before\n"
           "12-06 10:00:00.050  9  9 I edgebench-driver: workload start: engine runner, run slice-0ld-2\n"
           "12-06 10:00:00.100  9  9 I edgebench-driver: workload start: engine runner, run slice-ab12-1\n"
           "12-06 10:00:00.200  9  9 I edgebench-driver: workload end: exit 0\n"
           "12-06 10:00:01.000  9  9 I edgebench-slice: run slice-ab12-2\n"
           "12-06 10:00:01.500  9  9 I edgebench-driver: workload start: engine runner, run slice-ab12-10\n")
    save_log_windows(log, folders, token="ab12")
    first, second = ((f / "logcat.txt").read_text() for f in folders)
    # An earlier slice's mark (the log starts on a whole second) is not one of this slice's.
    assert "healthd: before" in first and "slice-0ld-2" in first and "workload end" in first
    assert "slice-ab12-2" not in first
    assert second.startswith("12-06 10:00:01.000") and "slice-ab12-10" in second


def test_after_the_log_wrapped_lines_before_the_first_mark_go_with_no_run(tmp_path: Path):
    folders = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for f in folders:
        f.mkdir()
    log = ("12-06 10:00:00.000  1  1 I runner: a line of run 2\n"
           "12-06 10:00:01.000  9  9 I edgebench-driver: workload start: engine runner, run slice-ab12-3\n")
    save_log_windows(log, folders, token="ab12")
    assert not (folders[0] / "logcat.txt").exists() and not (folders[1] / "logcat.txt").exists()
    assert "slice-ab12-3" in (folders[2] / "logcat.txt").read_text()


def test_a_log_without_marks_is_not_guessed_into_windows(tmp_path: Path):
    save_log_windows("12-06 10:00:00.000  1  1 I healthd: x\n", [tmp_path], token="ab12")
    assert not (tmp_path / "logcat.txt").exists()


def test_a_local_slice_waits_for_the_host_before_each_next_run(tmp_path: Path):
    """wait_for_go: run 2 starts only after the host writes its line (the host is the device there)."""
    fake_driver = tmp_path / "driver.sh"
    fake_driver.write_text('mkdir -p "$1/out"; exit 0\n')
    entries = [SliceEntry(f"s/r{i}", ["x"], {}, 10.0) for i in (1, 2)]
    slice_file = tmp_path / "slice.txt"
    slice_file.write_text(slice_file_text(entries, driver=str(fake_driver),
                                          run_dir_of={e.run_name: str(tmp_path / e.run_name) for e in entries},
                                          output="dir", keep=True, cooldown=DeviceCooldown("none"), logcat=False,
                                          wait_for_go=True))
    proc = subprocess.Popen(["sh", str(SLICE_SCRIPT), str(slice_file)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    reader = FrameReader("local", "slice")
    seen: list[object] = []
    while not any(isinstance(e, RunFinished) for e in seen):
        seen += reader.feed(proc.stdout.read1(4096))
    time.sleep(0.5)
    assert not (tmp_path / "s" / "r2").exists()  # still waiting for the host
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    rest = reader.feed(proc.stdout.read())
    proc.wait(timeout=10)
    assert (tmp_path / "s" / "r2" / "out").is_dir() and any(isinstance(e, SliceEnded) for e in rest)


@pytest.mark.parametrize("shell", ["dash", "mksh", "bash"])
def test_a_run_that_made_no_out_folder_sends_no_tar_not_the_last_runs(tmp_path: Path, shell: str):
    """slice.sh 1.1.0 rewrites one tar file and one driver-output file of the slice for every run: a run whose
    driver failed before making out/ must send nothing, never what the run before it left in those files.
    Nothing of the slice stays beside its file, and the run folders are gone."""
    fake_driver = tmp_path / "driver.sh"
    fake_driver.write_text('case $1 in */r2) exit 2 ;; esac\n'
                           'mkdir -p "$1/out" && echo "${1##*/} out" > "$1/out/${1##*/}.txt"; echo "${1##*/} said"\n')
    entries = [SliceEntry(f"s/r{i}", ["x"], {}, 10.0) for i in (1, 2, 3)]
    runs = tmp_path / "runs"
    slice_file = runs / "s" / "slice-1.sh"
    slice_file.parent.mkdir(parents=True)
    slice_file.write_text(slice_file_text(entries, driver=str(fake_driver),
                                          run_dir_of={e.run_name: str(runs / e.run_name) for e in entries},
                                          output="tar", keep=False, cooldown=DeviceCooldown("none"), logcat=False))
    proc = subprocess.run([shell, str(SLICE_SCRIPT), str(slice_file)], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    finished = [e for e in FrameReader("local", "slice").feed(proc.stdout) if isinstance(e, RunFinished)]
    got = [(e.exit_code, sorted(tarfile.open(fileobj=e.tar).getnames()) if e.tar else None, e.driver_output.strip())
           for e in finished]
    assert got == [(0, [".", "./r1.txt"], "r1 said"), (2, None, ""), (0, [".", "./r3.txt"], "r3 said")]
    assert sorted(p.name for p in (runs / "s").iterdir()) == []

"""The device contract: what edgebench relies on from any adb device.

Runs against a virtual device always, and against attached phones with `pytest -m device`
(the default adb server, ANDROID_SERIAL or every attached device).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Iterator

import pytest

from edgebench.cli.main import main
from edgebench.devices.adb import AdbServer, AdbServerAddress, server_answers
from edgebench.errors import DeviceError, EdgebenchError
from edgebench.targets.adb import AdbTarget
from tests.virtual.helpers import cli_lab

from ..conftest import REAL_MODELS

ADD = REAL_MODELS / "tflm_simple_add_model.tflite"


class DeviceContract:
    """Subclasses provide a `target` fixture (an AdbTarget) and a `workspace` path."""

    def test_identity_is_stable_and_not_the_adb_serial(self, target: AdbTarget):
        again = AdbTarget(AdbServer().device(target.name))
        info = target.describe()
        assert info.device_id == again.describe().device_id
        assert target.name not in info.device_id
        assert info.device_kind in ("phone", "emulator", "virtual", "board") and info.abi

    def test_shell_reports_exit_codes_and_quotes_arguments(self, target: AdbTarget):
        assert target.device.shell("exit 3").exit_code == 3
        hostile = "a b; echo pwned $(id) `id` 'q'"
        assert target.device.check_shell(["echo", hostile]).rstrip("\r\n") == hostile

    def test_push_pull_round_trip(self, target: AdbTarget, tmp_path: Path):
        blob = os.urandom(1 << 20)
        src, back = tmp_path / "blob.bin", tmp_path / "back.bin"
        src.write_bytes(blob)
        target.device.push(src, "/data/local/tmp/edgebench-contract.bin")
        target.device.pull("/data/local/tmp/edgebench-contract.bin", back)
        target.device.shell(["rm", "-f", "/data/local/tmp/edgebench-contract.bin"])
        assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(blob).digest()

    def test_staging_skips_unchanged_and_verify_repairs_a_changed_file(self, target: AdbTarget, tmp_path: Path):
        src = tmp_path / "payload.bin"
        src.write_bytes(b"edgebench contract payload\n" * 100)
        target.stage({"contract/payload.bin": src})
        remote = target.device_path("contract/payload.bin")
        stamp = target.device.check_shell(["ls", "-l", "--full-time", remote])
        target.stage({"contract/payload.bin": src})
        assert target.device.check_shell(["ls", "-l", "--full-time", remote]) == stamp  # not pushed again
        # Same size, other bytes, pushed behind edgebench's back: only --verify notices.
        tampered = tmp_path / "tampered.bin"
        tampered.write_bytes(b"X" + src.read_bytes()[1:])
        target.device.push(tampered, remote)
        target.stage({"contract/payload.bin": src}, verify=True)
        sha = target.device.check_shell(["sha256sum", remote]).split()[0]
        assert sha == hashlib.sha256(src.read_bytes()).hexdigest()

    def test_staging_hashes_each_file_once_while_pushing_it(self, target: AdbTarget, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
        """A new file is hashed while it is sent (no pass over it before); re-staging it unchanged reads
        the hash from the cache; a file replaced by another (new inode, same size and mtime) is hashed again."""
        from edgebench.targets import staging

        reads: list[str] = []

        class CountingHashlib:
            @staticmethod
            def sha256() -> hashlib._Hash:
                reads.append("sha256")
                return hashlib.sha256()

        monkeypatch.setattr(staging, "hashlib", CountingHashlib)
        src = tmp_path / "new.bin"
        src.write_bytes(os.urandom(300_000))
        relative = f"contract/hash-once-{os.getpid()}.bin"
        remote = target.device_path(relative)
        target.stage({relative: src})
        assert reads == []  # hashed on the way out, not before
        manifest = json.loads(target.device.read_text(target.device_path(".edgebench-staged.json")))
        assert manifest[relative]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
        stamp = target.device.check_shell(["ls", "-l", "--full-time", remote])
        target.stage({relative: src})
        assert reads == []  # unchanged: the hash of the push is reused, the file is not read again
        assert target.device.check_shell(["ls", "-l", "--full-time", remote]) == stamp
        # Same size, same mtime, other bytes, under the same name (a new inode): hashed and pushed again.
        other = tmp_path / "other.bin"
        other.write_bytes(os.urandom(300_000))
        st = src.stat()
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        other.replace(src)
        target.stage({relative: src})
        assert reads == ["sha256"]
        sha = target.device.check_shell(["sha256sum", remote]).split()[0]
        assert sha == hashlib.sha256(src.read_bytes()).hexdigest()
        # The same file under a new name (one model to many folders): its known hash is used, it is only sent.
        hashed_pushes: list[str] = []
        real_push_hashed = target.device.push_hashed
        monkeypatch.setattr(target.device, "push_hashed",
                            lambda *a, **k: hashed_pushes.append("push") or real_push_hashed(*a, **k))
        copy = f"contract/hash-once-{os.getpid()}-copy.bin"
        target.stage({copy: src})
        assert reads == ["sha256"] and hashed_pushes == []
        manifest = json.loads(target.device.read_text(target.device_path(".edgebench-staged.json")))
        assert manifest[copy]["sha256"] == sha == target.device.check_shell(["sha256sum", target.device_path(copy)]).split()[0]
        target.device.shell(["rm", "-f", remote, target.device_path(copy)])

    def test_staging_pushes_changes_without_a_shell_round_trip(self, target: AdbTarget, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
        """New and changed files go out with the manifest on one sync session: no command runs on the device
        (each is a process start there), and adbd applies the mode of the push (a script stays executable)."""
        if "fixed_push_mkdir" not in target.device.features():
            pytest.skip("an adbd before Android 7 gets the pushed files' folders made by a shell command")
        script, blob = tmp_path / "hello.sh", tmp_path / "blob.bin"
        script.write_text("#!/system/bin/sh\necho staged-ok\n")
        blob.write_bytes(os.urandom(200_000))
        files = {f"contract/sync-only-{os.getpid()}.sh": script, f"contract/sync-only-{os.getpid()}.bin": blob}

        def no_shell(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("staging ran a shell command")

        for name in ("shell", "check_shell", "open_shell"):
            monkeypatch.setattr(target.device, name, no_shell)
        target.stage(files)
        blob.write_bytes(os.urandom(150_000))  # changed: listed in the manifest, so unlisted first
        target.stage(files)
        monkeypatch.undo()
        remotes = {relative: target.device_path(relative) for relative in files}
        manifest = json.loads(target.device.read_text(target.device_path(".edgebench-staged.json")))
        for relative, source in files.items():
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            assert manifest[relative] == {"sha256": digest, "size": source.stat().st_size}
            assert target.device.check_shell(["sha256sum", remotes[relative]]).split()[0] == digest
        assert target.device.check_shell([remotes[f"contract/sync-only-{os.getpid()}.sh"]]).strip() == "staged-ok"
        target.device.shell(["rm", "-f", *remotes.values()])

    @pytest.mark.parametrize("name", ["caf\u00e9 \u540d.bin", "back\\slash.bin"])
    def test_staging_manifest_keeps_unusual_names(self, target: AdbTarget, tmp_path: Path, name: str):
        """The manifest (JSON sent over sync, no shell quoting) keeps non-ASCII names and backslashes intact."""
        src = tmp_path / "payload.bin"
        src.write_bytes(b"unusual name\n")
        relative = f"contract/{name}"
        target.stage({relative: src})
        manifest = json.loads(target.device.read_text(target.device_path(".edgebench-staged.json")))
        assert manifest[relative]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
        stamp = target.device.check_shell(["ls", "-l", "--full-time", target.device_path(relative)])
        target.stage({relative: src})
        assert target.device.check_shell(["ls", "-l", "--full-time", target.device_path(relative)]) == stamp
        target.device.shell(["rm", "-f", target.device_path(relative)])

    def test_a_pushed_file_the_device_holds_otherwise_is_an_error_naming_it(self, target: AdbTarget, tmp_path: Path):
        """After a push, staging reads back each file's size and x bit (adbd rewrites in place without
        truncating where it cannot unlink: an old file's tail would stay)."""
        script = tmp_path / "tail.sh"
        script.write_text("#!/system/bin/sh\necho new\n")
        relative = f"contract/tail-{os.getpid()}.sh"
        target.stage({relative: script})
        remote = target.device_path(relative)
        target.device.shell(f"echo 'echo stale tail' >> {remote}")
        with pytest.raises(DeviceError, match=r"does not hold what was pushed: \d+ bytes, mode 7\d\d on the device"):
            target.staging.check_sent([(relative, script, script.stat())])
        target.device.shell(f"chmod 644 {remote} && truncate -s {script.stat().st_size} {remote}")
        with pytest.raises(DeviceError, match="mode 644 on the device.*executable"):
            target.staging.check_sent([(relative, script, script.stat())])
        target.device.shell(["rm", "-f", remote])

    def test_a_file_this_host_cannot_read_is_its_error_not_a_lost_device(self, target: AdbTarget, tmp_path: Path):
        import time

        started = time.monotonic()
        with pytest.raises(EdgebenchError, match=f"cannot read {tmp_path}") as caught:
            target.stage({f"contract/unreadable-{os.getpid()}": tmp_path})  # a folder: open() fails
        assert not isinstance(caught.value, DeviceError)
        assert time.monotonic() - started < 1.0  # not retried as a dropped link

    def test_run_folder_is_executable(self, target: AdbTarget, workspace: Path):
        from edgebench.targets.doctor import diagnose

        findings = {f.check: f for f in diagnose(target, harness_root=workspace / "harness")}
        assert findings["run_folder"].ok, findings["run_folder"].detail
        assert findings["free_space"].ok, findings["free_space"].detail

    def test_cpu_topology_is_readable(self, target: AdbTarget):
        facts = target.cpu_facts()
        assert facts and all(f.capacity or f.max_freq_khz for f in facts)
        # the same values the files hold, read one `cat` at a time
        for f in facts:
            base = f"/sys/devices/system/cpu/cpu{f.cpu}"
            for value, node in ((f.capacity, "cpu_capacity"), (f.max_freq_khz, "cpufreq/cpuinfo_max_freq")):
                shown = target.device.shell(f"cat {base}/{node}").stdout.strip()
                assert value == (int(shown) if shown.isdigit() else None), (f.cpu, node, shown)

    def test_thermal_zones_are_read_with_their_types(self, target: AdbTarget):
        temps = target.read_temperatures_c()
        # zones whose temp reads (on phones some fail with EINVAL or ENODATA: those are not listed)
        listing = target.device.shell("for z in /sys/class/thermal/thermal_zone*; do t=$(cat $z/temp 2>/dev/null) && "
                                      "[ -n \"$t\" ] && echo ${z##*/}:$(cat $z/type); done; true").stdout.split()
        assert temps and sorted(temps) == sorted(listing)

    def test_push_and_run_smoke(self, target: AdbTarget, workspace: Path, capsys):
        code = main(["--workspace", str(workspace), "push-and-run", str(ADD), "--target", target.name,
                     "--protocol", "smoke", "--json"])
        (record,) = json.loads(capsys.readouterr().out)
        assert code == 0 and record["status"] in ("ok", "invalid"), record
        assert record["latency_us"]["count"] >= 50
        assert record["simulated"] is (record["device_kind"] in ("virtual", "emulator"))


@pytest.fixture(scope="module")
def _virtual(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[tuple[AdbTarget, Path]]:
    workspace = tmp_path_factory.mktemp("contract")
    with cli_lab(workspace, harness_cache) as (_adb, serials):
        yield AdbTarget(AdbServer().device(serials[0])), workspace


class TestVirtualDevice(DeviceContract):
    @pytest.fixture
    def target(self, _virtual):
        return _virtual[0]

    @pytest.fixture
    def workspace(self, _virtual):
        return _virtual[1]


def test_a_push_that_breaks_off_leaves_the_file_unstaged(_virtual: tuple[AdbTarget, Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    """The link breaks halfway through a changed file (every retry too): the error names the serial and the
    push, the manifest never lists what the device does not hold, and the next stage sends the file."""
    from edgebench.devices import adb_wire
    from edgebench.devices.adb import DeviceConnectionError

    target = _virtual[0]
    relative = f"contract/broken-{os.getpid()}.bin"
    src = tmp_path / "model.bin"
    src.write_bytes(os.urandom(1 << 20))
    target.stage({relative: src})
    src.write_bytes(os.urandom(1 << 20))  # same size, other bytes
    real_send_data = adb_wire._send_data

    def half_then_break(sock, src, *, sha256: bool) -> str | None:  # src: the open file being pushed
        data = src.read()
        real_send_data(sock, io.BytesIO(data[: len(data) // 2]), sha256=False)
        raise ConnectionResetError("the cable was pulled")

    monkeypatch.setattr(adb_wire, "_send_data", half_then_break)
    monkeypatch.setattr("edgebench.devices.adb.RETRY_DELAYS_S", (0.01,))
    with pytest.raises(DeviceConnectionError) as caught:
        target.stage({relative: src})
    assert target.name in str(caught.value) and "push" in str(caught.value)
    monkeypatch.undo()
    remote = target.device_path(relative)
    manifest = json.loads(target.device.read_text(target.device_path(".edgebench-staged.json")))
    held = target.device.shell(["sha256sum", remote]).stdout.split()
    assert relative not in manifest or [manifest[relative]["sha256"]] == held[:1]
    target.stage({relative: src})
    assert target.device.check_shell(["sha256sum", remote]).split()[0] == hashlib.sha256(src.read_bytes()).hexdigest()
    target.device.shell(["rm", "-f", remote])


def _attached_serials() -> list[str]:
    if os.environ.get("ANDROID_SERIAL"):
        return [os.environ["ANDROID_SERIAL"]]
    address = AdbServerAddress.resolve()
    if not server_answers(address):
        return []
    return [e.serial for e in AdbServer(address).devices() if e.state == "device"]


@pytest.mark.device
class TestAttachedPhone(DeviceContract):
    """`pytest -m device`: every attached device (or ANDROID_SERIAL) must keep the same contract."""

    @pytest.fixture(params=_attached_serials() or [None])
    def target(self, request):
        if request.param is None:
            pytest.skip("no device attached (or no adb server answers)")
        return AdbTarget(AdbServer().device(request.param))

    @pytest.fixture
    def workspace(self, tmp_path):
        return tmp_path

"""What a device command may do: no capabilities, no new privileges, no host network, own hostname."""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from edgebench.virtual.image import build_image
from edgebench.virtual.profiles import load_profile
from edgebench.virtual.sandbox import Sandbox, android_env

pytestmark = pytest.mark.usefixtures("sandbox_available")


def run_in_device(tmp_path: Path, script: str) -> tuple[int, str]:
    root, overlay = tmp_path / "root", tmp_path / "overlay"
    build_image(root, overlay, load_profile("pixel-8-like"), serial="EBVSANDBOX0001", abi="x86_64", port=16998)

    async def body() -> tuple[int, str]:
        box = Sandbox(root, overlay, abi="x86_64")
        await box.start()
        try:
            proc = await asyncio.create_subprocess_exec(*box.command(["/system/bin/sh", "-c", script]),
                                                        env=android_env(), stdout=asyncio.subprocess.PIPE)
            out, _ = await proc.communicate()
            return proc.returncode or 0, out.decode()
        finally:
            await box.stop()

    return asyncio.run(body())


def test_device_commands_have_no_privileges(tmp_path: Path) -> None:
    code, out = run_in_device(tmp_path, "grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs):' /proc/self/status; hostname")
    fields = {line.split(":")[0]: line.split()[1:] for line in out.splitlines() if ":" in line}
    assert fields["Uid"][:2] == ["2000", "2000"]
    assert fields["CapEff"] == ["0000000000000000"] and fields["CapBnd"] == ["0000000000000000"]
    assert fields["NoNewPrivs"] == ["1"]
    assert out.splitlines()[-1] == "localhost"


def test_device_cannot_reach_host_network(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        code, out = run_in_device(tmp_path, "command -v nc >/dev/null || exit 9; " f"echo hi | nc -w 1 127.0.0.1 {port} && echo reached || echo refused; ls /sys/class/net 2>/dev/null; cat /proc/net/dev | tail -n +3")
    assert code == 0, "toybox nc is needed for this check"
    assert "refused" in out and "reached" not in out
    interfaces = [line.split(":")[0].strip() for line in out.splitlines() if ":" in line]
    assert interfaces == ["lo", "wlan0"]  # wlan0 lives in the device's namespace only


class NoBinfmtSandbox(Sandbox):
    """As on a kernel without binfmt_misc in user namespaces: the qemu rule cannot be registered."""

    def config(self) -> dict:
        config = super().config()
        config["qemu_aarch64"] = "/nonexistent/qemu-aarch64-static"
        return config


def test_without_binfmt_arm64_devices_name_the_qemu_prefix(tmp_path: Path) -> None:
    from edgebench.virtual.sandbox import QEMU_AARCH64, missing_tools
    from tests.virtual.helpers import aarch64_exit_program

    if missing_tools("arm64-v8a"):
        pytest.skip("qemu-aarch64-static is not installed")
    if Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists():
        pytest.skip("this host registers qemu for aarch64 host-wide")
    root, overlay = tmp_path / "root", tmp_path / "overlay"
    build_image(root, overlay, load_profile("galaxy-s9-like"), serial="EBVSANDBOX0002", abi="arm64-v8a", port=16997)
    prog = root / "data/local/tmp/prog"
    prog.write_bytes(aarch64_exit_program(7))
    prog.chmod(0o755)

    async def body() -> tuple[str, dict[str, str], int, bytes, int]:
        box = NoBinfmtSandbox(root, overlay, abi="arm64-v8a")
        await box.start()
        try:
            env = box.env()
            direct = await asyncio.create_subprocess_exec(*box.command(["/data/local/tmp/prog"]), env=env,
                                                          stderr=asyncio.subprocess.DEVNULL)
            prefixed = await asyncio.create_subprocess_exec(
                *box.command(["/system/bin/sh", "-c", "$EDGEBENCH_EXEC_PREFIX /data/local/tmp/prog"]),
                env=env, stdout=asyncio.subprocess.PIPE)
            out, _ = await prefixed.communicate()
            return box.aarch64, env, await direct.wait(), out, prefixed.returncode or 0
        finally:
            await box.stop()

    mode, env, direct_code, out, prefixed_code = asyncio.run(body())
    assert mode == "exec-prefix" and env["EDGEBENCH_EXEC_PREFIX"] == QEMU_AARCH64
    assert direct_code != 7  # cannot execute an aarch64 file directly
    assert (prefixed_code, out) == (7, b"arm\n")

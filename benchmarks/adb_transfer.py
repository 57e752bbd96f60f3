"""edgebench's push (staging) vs the `adb push` command, 50 MB to a virtual device; the cost of
re-staging a file that is already there unchanged (the manifest, not re-hashing or re-sending); and
the small round trips of a run (`shell true`, pull of a 33 KB file) through edgebench vs the adb CLI.

Targets: throughput ratio edgebench / adb >= 0.9; unchanged re-push <= 50 ms.
Run:  .venv/bin/python benchmarks/adb_transfer.py [--mb 50] [--rounds 5]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lab import ADB, virtual_lab  # noqa: E402

from edgebench.devices.adb import AdbServer  # noqa: E402
from edgebench.targets.adb import AdbTarget  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, virtual_lab(1) as (_ws, (serial,), port):
        blob = Path(tmp) / "blob.bin"
        blob.write_bytes(os.urandom(args.mb << 20))
        target = AdbTarget(AdbServer().device(serial))
        env = dict(os.environ, ADB_SERVER_SOCKET=f"tcp:localhost:{port}")
        adb_s, edge_s, raw_s = [], [], []
        for i in range(args.rounds):  # interleaved, so drift hits both alike
            t = time.perf_counter()
            subprocess.run([ADB, "-s", serial, "push", str(blob), f"/data/local/tmp/adb_blob_{i}.bin"],
                           env=env, check=True, capture_output=True)
            adb_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            target.stage({f"bench/blob_{i}.bin": blob})  # a new name: really pushed
            edge_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            target.device.push(blob, f"/data/local/tmp/raw_blob_{i}.bin")  # the transfer alone
            raw_s.append(time.perf_counter() - t)
            print(f"round {i + 1}: adb push {adb_s[-1]:.2f} s, edgebench stage {edge_s[-1]:.2f} s, "
                  f"edgebench raw push {raw_s[-1]:.2f} s", flush=True)
        again = []
        for _ in range(5):
            t = time.perf_counter()
            target.stage({"bench/blob_0.bin": blob})
            again.append(time.perf_counter() - t)
        target.device.shell("rm -rf /data/local/tmp/adb_blob_* /data/local/tmp/raw_blob_* "
                            "/data/local/tmp/edgebench/bench")
        shell_cli, shell_edge, pull_cli, pull_edge = small_round_trips(target, serial, env, Path(tmp))
        t = time.perf_counter()
        hashlib.sha256(blob.read_bytes()).hexdigest()
        hash_s = time.perf_counter() - t
    a, e = statistics.median(adb_s), statistics.median(edge_s)
    print()
    print(f"{args.mb} MB to a virtual device, median of {args.rounds}: adb push {a:.2f} s ({args.mb / a:.0f} MB/s), "
          f"edgebench {e:.2f} s ({args.mb / e:.0f} MB/s)")
    r = statistics.median(raw_s)
    print(f"throughput ratio edgebench stage (manifest, temp name, rename) / adb push: {a / e:.2f}   (target >= 0.9)")
    print(f"throughput ratio edgebench raw sync push / adb push: {a / r:.2f}")
    print(f"re-push of the unchanged file, median of 5: {statistics.median(again) * 1000:.1f} ms   (target <= 50 ms)")
    print(f"shell round trip (`shell true`), median of {SMALL_ROUNDS}: adb CLI {shell_cli * 1000:.1f} ms, "
          f"edgebench {shell_edge * 1000:.1f} ms")
    # What staging adds to the transfer: the manifest and sizes (over sync, no process on the device),
    # sha256 of the file while it is sent (free on an idle second core, not on a busy host), and one
    # shell round trip for the atomic renames (a process start on the device for each command).
    print(f"stage beyond the raw transfer: {(e - r) * 1000:.0f} ms; its parts: sha256 while sending "
          f"(hashing {args.mb} MB alone takes {hash_s * 1000:.0f} ms here; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores), "
          f"one renaming shell round trip (`shell true` alone: {shell_edge * 1000:.1f} ms)")
    print(f"pull of a {SMALL_PULL_BYTES // 1000} KB file, median of {SMALL_ROUNDS}: adb CLI {pull_cli * 1000:.1f} ms, "
          f"edgebench {pull_edge * 1000:.1f} ms")


SMALL_ROUNDS = 30
SMALL_PULL_BYTES = 33_000  # a run's output archive is about this size


def small_round_trips(target: AdbTarget, serial: str, env: dict[str, str],
                      tmp: Path) -> tuple[float, float, float, float]:
    """Medians (s) of `shell true` and of a 33 KB pull: adb CLI, edgebench; interleaved."""
    remote = "/data/local/tmp/edgebench_small.bin"
    small = tmp / "small.bin"
    small.write_bytes(os.urandom(SMALL_PULL_BYTES))
    target.device.push(small, remote)
    times: dict[str, list[float]] = {"shell_cli": [], "shell_edge": [], "pull_cli": [], "pull_edge": []}
    for _ in range(SMALL_ROUNDS):
        t = time.perf_counter()
        subprocess.run([ADB, "-s", serial, "shell", "true"], env=env, check=True, capture_output=True)
        times["shell_cli"].append(time.perf_counter() - t)
        t = time.perf_counter()
        target.device.shell("true")
        times["shell_edge"].append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([ADB, "-s", serial, "pull", remote, str(tmp / "cli.bin")], env=env, check=True,
                       capture_output=True)
        times["pull_cli"].append(time.perf_counter() - t)
        t = time.perf_counter()
        target.device.pull(remote, tmp / "edge.bin")
        times["pull_edge"].append(time.perf_counter() - t)
    target.device.shell(["rm", "-f", remote])
    assert (tmp / "edge.bin").read_bytes() == small.read_bytes()
    medians = [statistics.median(times[k]) for k in ("shell_cli", "shell_edge", "pull_cli", "pull_edge")]
    return medians[0], medians[1], medians[2], medians[3]


if __name__ == "__main__":
    main()

"""Files edgebench keeps on a device: journals written atomically, free space, programs and samples."""
from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Sequence

from edgebench.devices.adb import quote
from edgebench.targets.android.reply import Reply, Service


class DeviceFiles(Service):
    def write_atomic(self, path: str, text: str) -> None:
        """Write one line of text under a temporary name, then rename it: a reader never sees half of
        it. DeviceError when the device refuses."""
        partial = quote(path + ".partial")
        self._check(f"mkdir -p {quote(posixpath.dirname(path))} && printf '%s\\n' {quote(text)} > {partial} "
                    f"&& mv -f {partial} {quote(path)}")

    def read(self, path: str) -> Reply:
        """`cat PATH` as answered (exit code non-zero when it does not exist)."""
        return self._run(["cat", path])

    def remove(self, path: str) -> Reply:
        return self._run(["rm", "-f", path])

    def remove_tree(self, path: str) -> Reply:
        return self._run(["rm", "-rf", path])

    def pull(self, remote: str, local: Path) -> None:
        self._device.pull(remote, local)

    def execute(self, path: str) -> Reply:
        """Run a file as a program, not through sh: a noexec mount refuses it."""
        return self._run(path)

    def free_bytes(self, folder: str) -> int | None:
        """Bytes available to the shell user in `folder` (`df -k`); None when df says nothing usable."""
        result = self._run(["df", "-k", folder])
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        if result.exit_code != 0 or len(lines) < 2:
            return None
        header, row = lines[0].split(), lines[-1].split()
        # toybox: Filesystem 1K-blocks Used Available Use% Mounted on; some old toolboxes print "Free".
        for name in ("Available", "Avail", "Free"):
            if name in header:
                index = header.index(name)
                value = row[index] if len(row) == len(header) - 1 or len(row) == len(header) else None
                if value and value.isdigit():
                    return int(value) * 1024
        return None

    def record_samples(self, sampler: str, folder: str, nodes: Sequence[str], *, interval_ms: int,
                       seconds: float, timeout_s: float) -> str:
        """Run the sampler on `nodes` for `seconds` into FOLDER/samples.jsonl (made here); returns that
        path. DeviceError when the sampler fails."""
        out = folder + "/samples.jsonl"
        self._check(f"mkdir -p {quote(folder)} && ({quote(sampler)} --interval-ms {interval_ms} "
                    f"--out {quote(out)} {' '.join(nodes)} & pid=$!; sleep {int(round(seconds))}; "
                    f"kill -TERM $pid; wait $pid) 2>&1", timeout=timeout_s)
        return out

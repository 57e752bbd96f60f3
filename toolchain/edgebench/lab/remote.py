"""Measure one model on the lab's devices and wait for the runs: how a tuning trial on one host gets its
on-device latency from phones on other hosts (`edgebench tune --target lab:model=Pixel 8`)."""
from __future__ import annotations

import os
import time
from typing import Sequence

from edgebench.errors import EdgebenchError, UsageError
from edgebench.lab.queue import open_lab
from edgebench.lab.status import lab_status
from edgebench.lab.submit import submit
from edgebench.records import RunRecord
from edgebench.store import ResultsStore
from edgebench.workspace import STORE_ENV

LAB_TARGET = "lab"


def lab_conditions(target: str) -> list[str] | None:
    """`lab` (every live device) or `lab:KEY=VALUE[,...]` (those matching): the conditions; None for other targets."""
    if target == LAB_TARGET:
        return []
    if target.startswith(LAB_TARGET + ":"):
        condition = target[len(LAB_TARGET) + 1:].strip()
        if not condition:
            raise UsageError(f"--target {target!r}: expected lab or lab:KEY=VALUE[,KEY=VALUE], e.g. 'lab:model=Pixel 8'.")
        return [condition]
    return None


def measure_on_lab(model_paths: Sequence[str | os.PathLike[str]], conditions: Sequence[str], *,
                   protocol: str = "smoke", runs: int | None = None, threads: Sequence[int] = (1,),
                   input_shapes: Sequence[str] | None = None, timeout_s: float = 3600.0, poll_s: float = 0.5,
                   stall_s: float = 30.0, command: str = "edgebench: measured on the lab") -> tuple[str, list[RunRecord]]:
    """Queue `model_paths` on every live lab device that matches `conditions` (devices of one model only),
    wait for the jobs (every one must succeed), return the session and its stored runs. The lab is the store
    at $EDGEBENCH_STORE (a PostgreSQL URL)."""
    url = os.environ.get(STORE_ENV)
    lab = open_lab(url)
    results = ResultsStore(url or "")
    try:
        done = submit(lab, results, model_paths, protocol=protocol, overrides={"runs": runs} if runs else {},
                      threads=threads, accelerators=["cpu"], cpu_mask=None, input_shapes=input_shapes,
                      device_conditions=list(conditions), stall_s=stall_s, command=command, one_device_model=True)
        deadline = time.monotonic() + timeout_s
        while True:
            status = lab_status(lab, session=done.session, stall_s=stall_s).sessions[0]
            if status.finished:
                unfinished = {k: n for k, n in status.jobs.items() if k != "succeeded" and n}
                if unfinished:  # a latency from some of the devices only would not compare with the others'
                    raise EdgebenchError(f"lab session {done.session} ended with jobs {unfinished}; see `edgebench "
                                         f"lab status --session {done.session}` and the workers' logs")
                return done.session, results.runs(done.session)
            if time.monotonic() > deadline:
                raise EdgebenchError(f"lab session {done.session} did not finish within {timeout_s:g} s "
                                     f"({status.jobs}); see `edgebench lab status --session {done.session}`")
            time.sleep(poll_s)
    finally:
        results.close()
        lab.engine.dispose()

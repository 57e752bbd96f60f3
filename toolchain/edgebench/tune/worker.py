"""Take trials of a study until it holds its budget, alone or with any number of workers on other hosts.

    ran = work_on_study(study, objective, budget=24, lock=lock, poll_s=10, deadline=None, log=log)

The budget counts trials that ran to their end: complete, pruned, or failed by their own error (a
spec that always fails must still end). A trial whose worker died does not count: it is failed (its
heartbeat went stale, it was never claimed, or `--resume` found it running) and its retry, a new trial
with the same parameters, takes its place. A worker decides to start a trial and starts it under
`trial_lock`, so workers together start exactly the trials the budget needs; a worker whose remaining
places are all held by trials running elsewhere waits, and runs the retry if one of those dies.
"""
from __future__ import annotations

import os
import socket
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from edgebench.tune.storage import TrialLock

WORKER_ATTR = "worker"  # user attr of a started trial: {"trial", "host", "pid"} of the process that runs it


@dataclass(frozen=True)
class Ledger:
    counted: int  # finished trials that hold a place in the budget (not those replaced by a retry)
    running: int


def retried_numbers(trials: Iterable[Any]) -> set[int]:
    """Numbers of the trials a later trial retries (RetryHeartbeatStaleTrialCallback's `retry_history`)."""
    out: set[int] = set()
    for t in trials:
        out.update(t.system_attrs.get("retry_history", ()))
    return out


def ledger(trials: list[Any]) -> Ledger:
    from optuna.trial import TrialState

    retried = retried_numbers(trials)
    return Ledger(counted=sum(1 for t in trials if t.state.is_finished() and t.number not in retried),
                  running=sum(1 for t in trials if t.state == TrialState.RUNNING))


def worker_identity() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def fail_interrupted(study: Any) -> int:
    """`--resume`: the user says no one else works on the study, so its running trials belong to a
    process that stopped. Fail them and queue their retries; how many there were."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for t in running:
        _fail_and_retry(study, t)
    return len(running)


def fail_unclaimed(study: Any) -> None:
    """Under the trial lock: a live worker claims its trial (heartbeat, then WORKER_ATTR) before it lets
    go of the lock, so a running trial without its claim belongs to a worker that died while starting it,
    before any heartbeat that could go stale."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        claim = t.user_attrs.get(WORKER_ATTR)
        if not (isinstance(claim, dict) and claim.get("trial") == t.number):  # a retry inherits its original's
            _fail_and_retry(study, t)


def _fail_and_retry(study: Any, trial: Any) -> None:
    import optuna
    from optuna.trial import TrialState

    storage = study._storage
    try:
        if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
            return
    except optuna.exceptions.UpdateFinishedTrialError:
        return  # another worker got there first
    retry = storage.get_heartbeat_stale_trial_callback()
    if retry is not None:
        retry(study, storage.get_trial(trial._trial_id))


def _fail_stale(study: Any) -> None:
    import optuna

    with warnings.catch_warnings():  # Optuna marks fail_stale_trials experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def work_on_study(study: Any, objective: Callable[[Any], Any], *, budget: int, lock: TrialLock, poll_s: float,
                  deadline: float | None, log: Callable[[str], None]) -> int:
    """Run trials until the study holds `budget` counted trials (or `deadline`, a time.monotonic(), passes);
    how many trials this worker ran to their end."""
    import optuna

    ran = 0
    said_waiting = False
    while True:
        lock.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                lock.release()
                held = False

        started: dict[str, Any] = {}
        try:
            _fail_stale(study)
            fail_unclaimed(study)
            now = ledger(study.get_trials(deepcopy=False))
            if now.counted >= budget or (deadline is not None and time.monotonic() >= deadline):
                return ran
            start = now.counted + now.running < budget
            if start:
                try:
                    study.optimize(_claiming(objective, release, started), n_trials=1, catch=(Exception,),
                                   gc_after_trial=True)
                    ran += 1
                except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
                    mine = started.get("trial")
                    if mine is None or study._storage.get_trial(mine._trial_id).state.name != "FAIL":
                        raise
                    log(f"tune: trial {mine.number} was failed by another worker: no heartbeat of this one reached "
                        f"the storage within the grace period (a stalled host or network); its retry runs it again")
                said_waiting = False
        finally:
            release()
        if not start:
            if not said_waiting:
                log(f"tune: the study's last {budget - now.counted} trial(s) run on other workers; waiting "
                    "(a trial whose worker stops is retried here)")
                said_waiting = True
            time.sleep(poll_s)


def _claiming(objective: Callable[[Any], Any], release: Callable[[], None],
              started: dict[str, Any]) -> Callable[[Any], Any]:
    """The objective, preceded by the claim: a first heartbeat (so the trial can go stale), this worker's
    name on the trial, and only then the lock let go."""
    identity = worker_identity()

    def run(trial: Any) -> Any:
        started["trial"] = trial
        trial.study._storage.record_heartbeat(trial._trial_id)
        trial.set_user_attr(WORKER_ATTR, {"trial": trial.number, **identity})
        release()
        return objective(trial)

    return run

"""Several workers on one tuning study in PostgreSQL: the budget is met exactly, a dead worker's trial is retried.

Each worker is a real `edgebench tune --join` process with its own workspace and device-lock folder, as
if on its own host; they share only the Optuna storage, a throwaway PostgreSQL (tests/store/postgres.py).
Trials are real: the tiny spec of tests/train with one epoch trains (content-addressed, so each worker
trains each of its two configurations once), converts to fp32 and times it on this host: a fraction of a
second a trial once trained. TensorFlow's start in each worker is most of the test's time.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from types import SimpleNamespace
from sqlalchemy.engine import make_url

from edgebench.cli.main import main
from edgebench.errors import StoreError, UsageError
from edgebench.train import ArtifactStore
from edgebench.tune import run_tuning, study_name
from edgebench.tune.storage import heartbeat_policy
from tests.conftest import REPO
from tests.store.postgres import postgres_server, postgres_store_url  # noqa: F401 - fixtures
from tests.train.tiny import tiny_toml

TRIALS = 24
WORKERS = 3
KILL_AFTER_COMPLETE = 6  # midway: the victim is killed in the first trial it runs after this many completed
HEARTBEAT_S, GRACE_S = 1, 5  # a 2-core host running the suite beside three workers: room for a late beat
ONE_EPOCH = ("epochs = { low = 1, high = 2, default = 1 }", "epochs = { choices = [1], default = 1 }")


def tiny_spec(tmp_path: Path):
    """tests/train's tiny cnn_image spec, trained for one epoch only (filters 8 or 16: two models)."""
    from edgebench.spec import load_spec

    text = tiny_toml("cnn_image")
    assert ONE_EPOCH[0] in text
    path = tmp_path / "tiny_cnn_image.toml"
    path.write_text(text.replace(*ONE_EPOCH))
    return load_spec(path, "smoke")


def _start_worker(i: int, spec: Path, url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    env = {**os.environ, "EDGEBENCH_LOCK_DIR": str(tmp_path / f"locks{i}"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "toolchain"), str(REPO),
                                                       os.environ.get("PYTHONPATH")]))}
    env.pop("EDGEBENCH_STORE", None)
    log = tmp_path / f"worker{i}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edgebench.cli.main", "--workspace", str(tmp_path / f"ws{i}"), "tune", str(spec), "--budget", "smoke",
             "--objectives", "multi", "--trials", str(TRIALS), "--runs", "5", "--storage", url, "--join",
             "--heartbeat-s", str(HEARTBEAT_S), "--grace-s", str(GRACE_S)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    return proc, log


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("T", "t")


def _running_trial_of(study, pid: int):
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        claim = t.user_attrs.get("worker")
        # Mid-trial: its parameters drawn (killed before that, its retry has none to repeat and draws anew).
        if isinstance(claim, dict) and claim.get("pid") == pid and claim.get("trial") == t.number and t.params:
            return t
    return None


def _kill_mid_trial(study, proc: subprocess.Popen[bytes], timeout_s: float):
    """SIGKILL `proc` while it runs a trial: stop it, check in the storage that it holds a running trial
    (a stopped process cannot finish it meanwhile), kill it; let it go on and try again otherwise."""
    from optuna.trial import TrialState

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the worker to kill ended by itself"
        complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if complete >= KILL_AFTER_COMPLETE and _running_trial_of(study, proc.pid) is not None:
            os.kill(proc.pid, signal.SIGSTOP)
            while not _stopped(proc.pid):
                time.sleep(0.005)
            trial = _running_trial_of(study, proc.pid)
            if trial is not None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return trial
            os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"worker {proc.pid} ran no trial within {timeout_s} s")


def _study(url: str, name: str, workers: list[tuple[subprocess.Popen[bytes], Path]], timeout_s: float):
    import optuna

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for proc, log in workers:
            assert proc.poll() is None, f"a worker ended before the study began: {log.read_text()[-3000:]}"
        try:
            return optuna.load_study(study_name=name, storage=url)
        except KeyError:
            time.sleep(0.2)
    raise AssertionError(f"no study {name} in the storage after {timeout_s} s")


def test_three_workers_one_killed_mid_trial_end_with_exactly_the_budget(tmp_path, postgres_store_url):  # noqa: F811
    from optuna.trial import TrialState

    url = postgres_store_url("optuna")
    spec = tiny_spec(tmp_path)
    name = study_name(spec, "multi", "tpe")
    workers = [_start_worker(i, Path(spec.source), url, tmp_path) for i in range(WORKERS)]
    try:
        study = _study(url, name, workers, timeout_s=120)
        victim, _ = workers[0]
        killed = _kill_mid_trial(study, victim, timeout_s=300)
        for proc, log in workers[1:]:
            assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        for proc, _ in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == TRIALS, [(t.number, t.state.name) for t in trials]
    assert not [t.number for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    # The killed trial is failed and run once more, with its parameters, by a worker that lived.
    assert trials[killed.number].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("retry_history", [None])[-1] == killed.number]
    assert len(retries) == 1, [(t.number, t.system_attrs) for t in retries]
    retry = retries[0]
    assert retry.state == TrialState.COMPLETE and retry.system_attrs["failed_trial"] == killed.number
    assert retry.params == trials[killed.number].params
    assert retry.user_attrs["worker"]["pid"] != victim.pid
    # No trial lost, none counted twice: every failed trial (a busy host may also miss its heartbeats) has
    # exactly one retry, and only the COMPLETE ones count.
    for failed in (t for t in trials if t.state == TrialState.FAIL):
        assert sum(t.system_attrs.get("retry_history", [None])[-1] == failed.number for t in trials) == 1
    for t in complete:  # real evaluations: trained accuracy, .tflite size, a measured latency
        accuracy, size_bytes, latency_us = t.values
        assert 0 <= accuracy <= 1 and size_bytes > 0 and latency_us > 0 and t.user_attrs["run_ids"]
    survivors = {t.user_attrs["worker"]["pid"] for t in complete} - {victim.pid}
    assert survivors == {proc.pid for proc, _ in workers[1:]}


def test_a_fresh_tune_does_not_replace_a_study_shared_in_postgresql(tmp_path, postgres_store_url):  # noqa: F811
    import optuna

    url = postgres_store_url("optuna")
    spec = tiny_spec(tmp_path)
    name = study_name(spec, "accuracy", "random")
    shared = optuna.create_study(study_name=name, storage=url)
    shared.add_trial(optuna.create_trial(value=0.5))
    with pytest.raises(UsageError, match="--join") as err:
        run_tuning(spec, store=ArtifactStore(tmp_path / "artifacts"), workspace=tmp_path, sampler="random",
                   trials=2, storage=url, log=lambda _: None)
    password = make_url(url).password
    assert "already exists" in str(err.value) and (not password or str(password) not in str(err.value))
    assert len(optuna.load_study(study_name=name, storage=url).trials) == 1


def test_an_unreachable_storage_names_its_url_without_the_password(tmp_path, capsys):
    spec = tiny_spec(tmp_path)
    url = "postgresql+psycopg://tuner:s3cret-pw@127.0.0.1:1/lab"  # port 1: nothing listens there
    with pytest.raises(StoreError) as err:
        run_tuning(spec, store=ArtifactStore(tmp_path / "artifacts"), workspace=tmp_path, storage=url, join=True,
                   log=lambda _: None)
    text = str(err.value)
    assert "postgresql+psycopg://tuner:***@127.0.0.1:1/lab" in text and "s3cret" not in text
    assert "refused" in text.lower() and "scripts/lab-db.sh" in text
    code = main(["--workspace", str(tmp_path / "ws"), "tune", str(spec.source), "--storage", url, "--join"])
    out = capsys.readouterr()
    assert code == 1 and "tuner:***@127.0.0.1:1/lab" in out.err and "s3cret" not in out.err + out.out


@pytest.mark.parametrize(("url", "said"), [
    ("postgresql://tuner:s3cret-pw@dbhost:port/optuna", "cannot read 'postgresql://tuner:***@dbhost:port/optuna'"),
    ("postgresql+psycopg://tuner:s3cret-pw@dbhost/", "names no database"),
    ("sqlite:///:memory:", "names no file"),
    ("mysql://tuner:s3cret-pw@dbhost/optuna", "is a mysql database; edgebench keeps studies in SQLite or PostgreSQL"),
])
def test_a_malformed_storage_url_is_refused_before_anything_runs(tmp_path, url, said):
    with pytest.raises(UsageError) as err:
        run_tuning(tiny_spec(tmp_path), store=ArtifactStore(tmp_path / "artifacts"), workspace=tmp_path, storage=url,
                   join=True, log=lambda _: None)
    assert said in str(err.value) and "s3cret" not in str(err.value) and "Expected sqlite:///PATH" in str(err.value)


@pytest.mark.parametrize(("heartbeat_s", "grace_s", "said"), [
    (0, None, "at least 1. Received: 0"),
    (10, 10, "grace period (10 s) must be longer than the heartbeat interval (10 s)"),
    (2, -1, "at least 1. Received: -1"),
])
def test_bad_heartbeat_settings_say_what_was_expected(heartbeat_s, grace_s, said):
    with pytest.raises(UsageError) as err:
        heartbeat_policy(heartbeat_s, grace_s)
    assert said in str(err.value)


def test_heartbeat_defaults_and_the_command_line_check():
    policy = heartbeat_policy()
    assert (policy.heartbeat_s, policy.grace_s) == (10, 30)
    assert heartbeat_policy(1).grace_s == 3


def test_the_command_line_refuses_a_fractional_heartbeat(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["tune", "spec.toml", "--heartbeat-s", "0.5"])
    assert exit_.value.code == 2
    assert "expected a whole number of seconds, at least 1; received '0.5'" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # the retry callback, called here
def test_a_live_worker_whose_trial_another_worker_failed_goes_on_and_counts_it_once(tmp_path, monkeypatch):
    """A host so busy that its heartbeats stop reaching the storage within the grace period looks dead:
    another worker fails its trial and queues a retry. The slow worker, finding its trial taken, says so
    and goes on; the study still ends with the budget, the retry counted in place of the taken trial."""
    import optuna
    from optuna.trial import TrialState

    import edgebench.train.trainer as trainer
    from edgebench.tune import default_storage

    spec = tiny_spec(tmp_path)
    name = study_name(spec, "accuracy", "random")
    calls: list[dict] = []

    def train(spec, params, *, store, dataset=None, on_epoch_end=None, **_):
        calls.append(dict(params))
        if len(calls) == 2:  # what fail_stale_trials does in another worker once this trial's heartbeat is stale
            storage = optuna.storages.RDBStorage(default_storage(tmp_path))
            study = optuna.load_study(study_name=name, storage=storage)
            taken = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))[0]
            storage.set_trial_state_values(taken._trial_id, state=TrialState.FAIL)
            optuna.storages.RetryHeartbeatStaleTrialCallback()(study, storage.get_trial(taken._trial_id))
        return SimpleNamespace(artifact_id=f"id-{params['filters']}", val_accuracy=params["filters"] / 16,
                               test_accuracy=0.5)

    monkeypatch.setattr(trainer, "train_model", train)
    monkeypatch.setattr("edgebench.lineage.record_in_workspace", lambda *a, **k: None)  # fakes have no lineage
    logs: list[str] = []
    result = run_tuning(spec, store=ArtifactStore(tmp_path / "artifacts"), workspace=tmp_path, sampler="random",
                        trials=3, log=logs.append)
    assert [t.state for t in result.trials] == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert any("trial 1 was failed by another worker" in line for line in logs), logs
    assert "retried as trial 2" in result.trials[1].failure
    assert result.trials[2].params == result.trials[1].params and len(calls) == 4 and result.ran_now == 3

"""A lab on this host for the tests: virtual phones on a private adb server, `edgebench lab worker`
processes (real ones, so they can be SIGKILLed), and counts read from the database itself."""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from edgebench.virtual import registry
from tests.conftest import REPO
from tests.virtual.helpers import ADB_BINARIES, PrivateAdb, free_port, start_device

MODELS = REPO / "fixtures" / "models"
TINY = (MODELS / "eb_uint8_image_mean.tflite", MODELS / "eb_float16_input.tflite")
FAST = ("--protocol", "smoke", "--runs", "10", "--warmup", "1")
HEARTBEAT = ("--heartbeat", "0.5", "--stall-timeout", "3")


@dataclass
class Phones:
    adb: PrivateAdb
    serials: list[str]
    harness_cache: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {**self.adb.env, "EDGEBENCH_HARNESS_CACHE": str(self.harness_cache), **extra}


@pytest.fixture(scope="session")
def phones(tmp_path_factory: pytest.TempPathFactory, harness_cache: Path) -> Iterator[Phones]:
    """Six virtual phones on one private adb server (adb 36), shared by the lab tests of a test process."""
    from edgebench.virtual.sandbox import probe

    reason = probe()
    if reason is not None:
        pytest.skip(f"virtual devices cannot run here: {reason}")
    root = tmp_path_factory.mktemp("lab") / registry.REGISTRY_DIR
    adb = PrivateAdb(ADB_BINARIES.get("adb36-adbutils") or next(iter(ADB_BINARIES.values())), free_port())
    adb.check("start-server")
    states = [start_device(root) for _ in range(6)]
    try:
        for s in states:
            adb.check("connect", s.config.adb_serial)
        yield Phones(adb, [s.config.adb_serial for s in states], harness_cache)
    finally:
        for s in registry.list_devices(root):
            registry.stop_device(s)
        adb.run("kill-server")


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    serials: list[str]

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Lab:
    url: str
    phones: Phones
    root: Path
    workers: list[Worker] = field(default_factory=list)

    def edgebench(self, *args: str, workspace: str = "submitter", timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edgebench.cli.main", "--workspace", str(self.root / workspace),
                               "--store", self.url, *args], env=self.phones.env(), capture_output=True, text=True,
                              timeout=timeout)

    def start_worker(self, serials: list[str], name: str, *extra: str) -> Worker:
        log = self.root / f"{name}.log"
        handle = log.open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "edgebench.cli.main", "--workspace", str(self.root / name),
                                 "--store", self.url, "lab", "worker", "--devices", ",".join(serials), *HEARTBEAT,
                                 "--until-idle", *extra], env=self.phones.env(), stdout=handle, stderr=handle)
        worker = Worker(proc, log, serials)
        self.workers.append(worker)
        return worker

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql), params)]
        finally:
            engine.dispose()

    def wait_for(self, what: str, sql: str, predicate, timeout_s: float = 60, **params: object):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                rows = self.query(sql, **params)
            except Exception:  # noqa: BLE001 - tables not created yet
                rows = []
            if predicate(rows):
                return rows
            if time.monotonic() > deadline:
                logs = "\n".join(w.text()[-2000:] for w in self.workers)
                raise AssertionError(f"timed out waiting for {what}: {rows}\n{logs}")
            time.sleep(0.2)

    def stop(self) -> None:
        for w in self.workers:
            if w.proc.poll() is None:
                w.proc.kill()
            w.proc.wait(timeout=30)


@pytest.fixture
def lab(postgres_store_url, phones: Phones, tmp_path: Path) -> Iterator[Lab]:  # type: ignore[no-untyped-def]
    made = Lab(postgres_store_url("lab"), phones, tmp_path)
    try:
        yield made
    finally:
        made.stop()


def wait_exit(worker: Worker, timeout_s: float = 240) -> None:
    try:
        code = worker.proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        worker.proc.kill()
        raise AssertionError(f"worker did not finish:\n{worker.text()[-3000:]}") from None
    assert code == 0, worker.text()[-3000:]


"""A throwaway PostgreSQL for the tests: one server per test process, a fresh database per store.

`scripts/lab-db.sh throwaway` starts it (initdb into a temporary folder, a free loopback port, the socket in
that folder; as root it runs as the user postgres) and stops it when the session ends, or when this
process dies without ending it. Each store a test asks for is a new database (CREATE DATABASE from
template0 takes ~30 ms), dropped after the test.

Without PostgreSQL's programs or the psycopg driver the PostgreSQL tests skip and say why; CI sets
EDGEBENCH_REQUIRE_POSTGRES=1 (in .ci/run) so there they fail instead.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.conftest import REPO

LAB_DB = REPO / "scripts" / "lab-db.sh"
NOT_INSTALLED = 3  # lab-db.sh's exit code when PostgreSQL's programs are missing


def _unavailable(reason: str) -> None:
    if os.environ.get("EDGEBENCH_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"EDGEBENCH_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The superuser URL (database `postgres`) of this test process's throwaway server."""
    with _throwaway() as (url, _folder):
        yield url


@dataclass(frozen=True)
class StoppablePostgres:
    """A throwaway server of its own, to take away and bring back (a database outage)."""

    url: str  # superuser URL, database `postgres`
    folder: str

    def halt(self) -> None:
        """pg_ctl stop -m fast: the server ends every session and stops taking connections."""
        _lab_db("halt", self.folder)

    def start(self) -> None:
        """Up again on the same port (no-op when it runs)."""
        if not os.path.exists(os.path.join(self.folder, "data", "postmaster.pid")):
            _lab_db("start", self.folder)


def _lab_db(command: str, folder: str) -> None:
    done = subprocess.run(["bash", str(LAB_DB), command, folder], capture_output=True, text=True, timeout=90)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/lab-db.sh {command} {folder} failed: {done.stderr.strip()}")


@pytest.fixture(scope="module")
def stoppable_postgres() -> Iterator[StoppablePostgres]:
    """A server of the module's own (initdb takes ~1 s), so halting it disturbs no other test's server."""
    with _throwaway() as (url, folder):
        server = StoppablePostgres(url, folder)
        yield server


@contextmanager
def _throwaway() -> Iterator[tuple[str, str]]:
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("the PostgreSQL driver psycopg is not installed (pip install 'edgebench[lab]')")
    folder = tempfile.mkdtemp(prefix="edgebench-pg-")  # not pytest's tmp: the user postgres must enter it
    started = subprocess.run(["bash", str(LAB_DB), "throwaway", folder, "--owner-pid", str(os.getpid())],
                             capture_output=True, text=True, timeout=180)
    if started.returncode == NOT_INSTALLED:
        os.rmdir(folder)
        _unavailable(started.stderr.strip())
    if started.returncode != 0:
        subprocess.run(["bash", str(LAB_DB), "stop", folder], capture_output=True, timeout=60)
        pytest.fail(f"scripts/lab-db.sh throwaway failed ({started.returncode}): {started.stderr.strip()}")
    try:
        yield started.stdout.strip().splitlines()[-1], folder
    finally:
        subprocess.run(["bash", str(LAB_DB), "stop", folder], capture_output=True, timeout=60)


@pytest.fixture
def postgres_store_url(postgres_server: str) -> Iterator[Callable[[str], str]]:
    """new_url(name): a new empty database per name, dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    made: dict[str, str] = {}

    def new_url(name: str) -> str:
        if name not in made:
            database = f"t_{uuid.uuid4().hex[:16]}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {database} TEMPLATE template0"))
            made[name] = make_url(postgres_server).set(database=database).render_as_string(hide_password=False)
        return made[name]

    try:
        yield new_url
    finally:
        with admin.connect() as conn:
            for url in made.values():
                conn.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))
        admin.dispose()

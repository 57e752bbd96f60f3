"""Where the results store lives: its URL, the engine that reaches it, and clear errors when it cannot.

Two backends, one schema and one code path (SQLAlchemy Core): a SQLite file (the default, in the
workspace) or a PostgreSQL database shared by the hosts of a lab (`postgresql+psycopg://...`, the
driver comes with `pip install 'edgebench[lab]'`). URLs are shown with their password hidden.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from edgebench.errors import StoreError

EXPECTED = "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
LAB_EXTRA = "pip install 'edgebench[lab]'"
SQLITE_BUSY_S = 30  # how long a SQLite writer waits for another one before "database is locked"
CONNECT_TIMEOUT_S = 10  # psycopg waits forever by default for a host that drops packets
_POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE_DRIVERS = ("sqlite", "sqlite+pysqlite")


@dataclass(frozen=True)
class StoreUrl:
    """A results store's location, normalised: an absolute SQLite path or a psycopg 3 URL."""

    url: URL

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()  # sqlite | postgresql

    @property
    def shown(self) -> str:
        """The URL as it may be printed and logged: password hidden."""
        return self.url.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database or "") if self.backend == "sqlite" else None


def parse_store_url(location: str | os.PathLike[str]) -> StoreUrl:
    """A URL (`sqlite:///...`, `postgresql+psycopg://...`) or a bare file path (a SQLite file)."""
    text = str(location).strip()
    if not text:
        raise StoreError(f"the results store URL is empty. Expected {EXPECTED} (or leave --store and "
                         "$EDGEBENCH_STORE unset for the workspace's SQLite file).")
    if "://" not in text:
        return StoreUrl(URL.create("sqlite", database=str(Path(text).expanduser().resolve())))
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise StoreError(f"cannot read {_mask(text)!r} as a results store URL ({exc}). Expected {EXPECTED}.") from None
    if url.drivername in _SQLITE_DRIVERS:
        if url.database in (None, "", ":memory:"):
            raise StoreError(f"{url.render_as_string(hide_password=True)!r} names no file: an in-memory store would "
                             f"lose every result when the command ends. Expected {EXPECTED}.")
        return StoreUrl(url.set(drivername="sqlite", database=str(Path(url.database).expanduser().resolve())))
    if url.drivername in _POSTGRES_DRIVERS:
        shown = url.render_as_string(hide_password=True)
        if not url.database:
            raise StoreError(f"{shown!r} names no database. Expected {EXPECTED} "
                             "(scripts/lab-db.sh creates one and prints its URL).")
        return StoreUrl(url.set(drivername="postgresql+psycopg"))
    raise StoreError(f"results store URL {url.render_as_string(hide_password=True)!r} uses {url.drivername!r}; "
                     f"edgebench stores results in SQLite or PostgreSQL (psycopg 3). Expected {EXPECTED}.")


def create_store_engine(store: StoreUrl) -> Engine:
    """The engine for a store; raises StoreError when the driver is missing or the server cannot be reached."""
    if store.sqlite_path is not None:
        try:
            store.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of results store {store.shown}: {exc.strerror}. "
                             "Choose a writable place (--workspace DIR or --store sqlite:///PATH).") from None
        engine = create_engine(store.url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if importlib.util.find_spec("psycopg") is None:
            raise StoreError(f"results store {store.shown} needs the PostgreSQL driver psycopg 3, which this "
                             f"Python does not have. Install it: {LAB_EXTRA}")
        connect_args = {} if "connect_timeout" in store.url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
        try:
            # pre_ping: a lab worker's pooled connection may have outlived a database restart.
            engine = create_engine(store.url, pool_pre_ping=True, connect_args=connect_args)
        except ImportError as exc:  # psycopg without a libpq (neither psycopg[binary] nor a system libpq)
            raise StoreError(f"the PostgreSQL driver cannot load for results store {store.shown}: {exc}. "
                             f"Install the driver with its library: {LAB_EXTRA}") from None
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        raise StoreError(f"cannot reach results store {store.shown}: {driver_reason(exc)}. {_advice(store)}") from None
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE): two writers
    that both read first and then write would otherwise fail with "database is locked" instead of waiting."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def driver_reason(exc: DBAPIError) -> str:
    """The database driver's own words (e.g. 'connection refused'), without SQLAlchemy's SQL dump."""
    lines = [line.strip() for line in str(exc.orig).strip().splitlines() if line.strip()]
    return " ".join(lines) or type(exc.orig).__name__


# PostgreSQL's SQLSTATEs of a server going away or not yet back: admin_shutdown (pg_ctl stop -m fast ends
# every session with it), crash_shutdown, cannot_connect_now ("the database system is starting up");
# class 08 is "connection exception". A failed connect has no SQLSTATE at all (refused, timed out).
_POSTGRES_GONE = ("57P01", "57P02", "57P03")
# SQLite's words for a file that cannot be reached for now (another writer held it past the busy timeout,
# a network file system gone); "no such table" and the like are OperationalError too, and are not these.
_SQLITE_GONE = ("database is locked", "unable to open database file")


def is_connection_loss(exc: DBAPIError) -> bool:
    """Whether `exc` says the database could not be reached (worth waiting for), as opposed to a statement it
    refused (a broken constraint, a missing table, a bad value: a bug or a wrong store, never retried)."""
    if exc.connection_invalidated:  # SQLAlchemy's dialect recognised a dropped connection
        return True
    orig = exc.orig
    psycopg = sys.modules.get("psycopg")  # loaded whenever a PostgreSQL store is in use
    if psycopg is not None:
        if isinstance(orig, psycopg.InterfaceError):  # "the connection is closed"
            return True
        if isinstance(orig, psycopg.OperationalError):
            sqlstate = getattr(orig, "sqlstate", None)
            return sqlstate is None or sqlstate.startswith("08") or sqlstate in _POSTGRES_GONE
    if isinstance(orig, sqlite3.OperationalError):
        return any(words in str(orig) for words in _SQLITE_GONE)
    return False


def _advice(store: StoreUrl) -> str:
    if store.sqlite_path is not None:
        return "Check that the file is readable and writable, or choose another place (--store sqlite:///PATH)."
    return ("Check that PostgreSQL runs there and that the URL's host, port, user, password and database are right "
            "(scripts/lab-db.sh sets one up and prints its URL), or choose another store with --store URL or "
            "$EDGEBENCH_STORE.")


def _mask(text: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL: readers (results export) never block the writer; synchronous=FULL keeps committed runs on a crash.
    # Switching a new file to WAL needs it alone for a moment, and SQLite answers "database is locked" at
    # once (no busy wait) to another connection opening it then: that one tries again.
    deadline = time.monotonic() + SQLITE_BUSY_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()

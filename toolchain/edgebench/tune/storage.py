"""Where tuning studies live: Optuna's RDB storage with heartbeats, and the lock that hands out trials.

    where = parse_storage_url(url_or_none, workspace)      # TuningStorage: URL for Optuna, shown without password
    policy = heartbeat_policy(heartbeat_s, grace_s)         # HeartbeatPolicy, or a UsageError
    storage = open_storage(where, policy)                    # optuna RDBStorage, or a StoreError naming the URL
    with trial_lock(where) as lock: ...                      # one worker at a time decides and starts a trial

Every tuning process records a heartbeat for its running trial; a trial whose heartbeat is older than the
grace period belongs to a worker that died (SIGKILL, power loss, lost network), and the next live worker
marks it FAIL and queues a retry of the same parameters (Optuna's RetryHeartbeatStaleTrialCallback, which
notes the original in the retry's system attrs `failed_trial` and `retry_history`). Heartbeats work on
SQLite as on PostgreSQL; only a server database lets workers on several hosts share a study.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol

from edgebench.errors import StoreError, UsageError

DEFAULT_HEARTBEAT_S = 10
GRACE_HEARTBEATS = 3  # default grace: three missed heartbeats (a busy host may miss one or two)
MAX_RETRIES = 3  # a trial whose worker dies this many times in a row (e.g. the OOM killer) is left failed
CONNECT_TIMEOUT_S = 10  # psycopg waits forever by default for a host that drops packets
# The server probes the lock's connection when idle: a holder whose host lost power or its cable lets go of
# the lock after about 10 + 5 * 3 s, instead of the operating system's two hours.
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
EXPECTED = "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
_LOCK_NAME = "edgebench tune: start a trial"


@dataclass(frozen=True)
class HeartbeatPolicy:
    """How often a worker proves its trial is alive, and how long silence is tolerated before a retry."""

    heartbeat_s: int
    grace_s: int


def heartbeat_policy(heartbeat_s: int | None = None, grace_s: int | None = None) -> HeartbeatPolicy:
    """Defaults: a heartbeat every 10 s, a grace of three heartbeats. Optuna takes whole seconds."""
    beat = DEFAULT_HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    if isinstance(beat, bool) or not isinstance(beat, int) or beat < 1:
        raise UsageError(f"the heartbeat interval must be a whole number of seconds, at least 1. Received: {beat!r}. "
                         f"Leave --heartbeat-s out for the default ({DEFAULT_HEARTBEAT_S} s).")
    grace = GRACE_HEARTBEATS * beat if grace_s is None else grace_s
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 1:
        raise UsageError(f"the grace period must be a whole number of seconds, at least 1. Received: {grace!r}. "
                         f"Leave --grace-s out for the default ({GRACE_HEARTBEATS} heartbeats).")
    if grace <= beat:
        raise UsageError(f"the grace period ({grace} s) must be longer than the heartbeat interval ({beat} s): "
                         "otherwise a live worker's trial is failed and retried between two of its heartbeats. "
                         f"Pass --grace-s {GRACE_HEARTBEATS * beat} (or leave it out).")
    return HeartbeatPolicy(heartbeat_s=beat, grace_s=grace)


@dataclass(frozen=True)
class TuningStorage:
    """An Optuna storage URL, with the driver filled in; `shown` hides the password for logs and errors."""

    url: str
    shown: str
    backend: str  # sqlite | postgresql

    @property
    def sqlite_path(self) -> Path | None:
        from sqlalchemy.engine import make_url

        return Path(make_url(self.url).database or "") if self.backend == "sqlite" else None

    @property
    def shared(self) -> bool:
        """A server database that workers on other hosts may be using right now."""
        return self.backend != "sqlite"


def default_storage(workspace_root: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(workspace_root).resolve() / 'optuna.sqlite'}"


def parse_storage_url(url: str | None, workspace_root: str | os.PathLike[str]) -> TuningStorage:
    """The storage of `--storage URL` (default: the workspace's optuna.sqlite), or a UsageError."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = (url or default_storage(workspace_root)).strip()
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise UsageError(f"cannot read {_mask(text)!r} as an Optuna storage URL ({exc}). Expected {EXPECTED}.") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver edgebench ships (the 'lab' extra)
    backend = parsed.get_backend_name()
    shown = _mask(text)
    if backend not in ("sqlite", "postgresql"):
        raise UsageError(f"Optuna storage {shown!r} is a {backend} database; edgebench keeps studies in SQLite or "
                         f"PostgreSQL (it hands out trials under a lock of theirs). Expected {EXPECTED}.")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise UsageError(f"Optuna storage {shown!r} names no file: an in-memory study is lost when the command "
                             f"ends. Expected {EXPECTED}.")
        parsed = parsed.set(database=str(Path(parsed.database).expanduser().resolve()))
    elif backend == "postgresql" and not parsed.database:
        raise UsageError(f"Optuna storage {shown!r} names no database. Expected {EXPECTED} "
                         "(scripts/lab-db.sh creates one and prints its URL).")
    return TuningStorage(url=parsed.render_as_string(hide_password=False),
                         shown=parsed.render_as_string(hide_password=True), backend=backend)


def open_storage(where: TuningStorage, policy: HeartbeatPolicy) -> Any:
    """Optuna's RDBStorage with heartbeats and retries of trials whose worker died; a StoreError naming
    the URL (password hidden) and the driver's reason when the database cannot be reached."""
    import optuna
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    engine_kwargs: dict[str, Any] = {}
    if where.backend == "postgresql":
        # pre_ping: a long-lived worker's pooled connection may have outlived a database restart.
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}
    if where.sqlite_path is not None:
        where.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # heartbeats and the retry callback are marked experimental by Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.storages.RDBStorage(
                where.url, engine_kwargs=engine_kwargs, heartbeat_interval=policy.heartbeat_s,
                grace_period=policy.grace_s,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES))
        except ImportError as exc:
            raise StoreError(f"Optuna storage {where.shown} needs a database driver this Python does not have "
                             f"({exc}). For PostgreSQL: pip install 'edgebench[lab]'.") from None
        except DBAPIError as exc:
            raise StoreError(f"cannot reach Optuna storage {where.shown}: {_driver_reason(exc)}. {_advice(where)}") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open Optuna storage {where.shown}: {type(exc).__name__}: "
                             f"{_mask(str(exc).splitlines()[0])}. {_advice(where)}") from None


class TrialLock(Protocol):
    """Held while a worker counts the study's trials and starts one, so workers never overshoot the budget."""

    def acquire(self) -> None: ...

    def release(self) -> None: ...


@contextmanager
def trial_lock(where: TuningStorage) -> Iterator[TrialLock]:
    """A PostgreSQL advisory lock (released by the server if its holder dies), or a file lock beside a
    SQLite file (released by the kernel)."""
    lock: _PostgresLock | _FileLock
    if where.sqlite_path is not None:
        lock = _FileLock(where.sqlite_path.with_name(where.sqlite_path.name + ".trial-lock"))
    else:
        lock = _PostgresLock(where)
    try:
        yield lock
    finally:
        lock.close()


class _PostgresLock:
    """pg_advisory_lock on a connection of its own: the server drops it when the holder's connection ends."""

    def __init__(self, where: TuningStorage) -> None:
        from sqlalchemy import create_engine

        self._where = where
        options = " ".join(f"-c {name}={value}" for name, value in SERVER_KEEPALIVES.items())
        self._engine = create_engine(where.url, pool_pre_ping=True, isolation_level="AUTOCOMMIT",
                                     connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "options": options})
        self._key = int.from_bytes(hashlib.sha256(_LOCK_NAME.encode()).digest()[:8], "big", signed=True)
        self._conn: Any = None

    def acquire(self) -> None:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        try:
            conn = self._engine.connect()
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self._key})
        except DBAPIError as exc:
            raise StoreError(f"cannot reach Optuna storage {self._where.shown}: {_driver_reason(exc)}. "
                             f"{_advice(self._where)}") from None
        self._conn = conn

    def release(self) -> None:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        except DBAPIError:
            pass  # the connection is gone, and the server dropped the lock with it
        finally:
            conn.close()

    def close(self) -> None:
        self.release()
        self._engine.dispose()


class _FileLock:
    """flock on a file beside the SQLite study file (SQLite studies are shared by processes of one host)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def close(self) -> None:
        self.release()


def _driver_reason(exc: Any) -> str:
    """The driver's own words (e.g. 'connection refused'), without SQLAlchemy's SQL dump or the password."""
    from edgebench.store.engine import driver_reason

    return _mask(driver_reason(exc))


def _advice(where: TuningStorage) -> str:
    if where.sqlite_path is not None:
        return "Check that the file is readable and writable, or choose another place (--storage sqlite:///PATH)."
    return ("Check that the database server runs there and that the URL's host, port, user, password and database "
            "are right (scripts/lab-db.sh sets up PostgreSQL and prints its URL).")


def _mask(text: str) -> str:
    return re.sub(r"(://[^:/@\s]*:)[^@/\s]*@", r"\1***@", text)

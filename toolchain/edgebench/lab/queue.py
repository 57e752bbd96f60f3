"""The lab's job queue: procrastinate on the results store's PostgreSQL database.

procrastinate (jobs in PostgreSQL tables, taken with SELECT ... FOR UPDATE SKIP LOCKED, woken by
LISTEN/NOTIFY, workers with heartbeats) is the queue; edgebench only names the task, the queues and
the locks. `open_lab` checks the store URL, creates the lab's tables and the queue's schema when missing.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Engine

from edgebench.errors import StoreError, UsageError
from edgebench.lab.plan import MEASURE_TASK
from edgebench.lab.tables import ensure_lab_schema
from edgebench.store.engine import LAB_EXTRA, StoreUrl, create_store_engine, parse_store_url, write_transaction

POOL_WAIT_S = 10.0


@dataclass
class Lab:
    """A lab's shared database: the SQLAlchemy engine of its tables and how procrastinate reaches it."""

    store: StoreUrl
    engine: Engine

    @property
    def conninfo(self) -> str:
        """The libpq URL of the database (procrastinate speaks psycopg directly, not through SQLAlchemy)."""
        return self.store.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def app(self, measure: Callable[..., Any] | None = None) -> Any:
        """A procrastinate App on this database; `measure` (the worker's job function) is registered as the
        measurement task. Without it the app can defer, list, cancel and retry jobs, but not run them."""
        import procrastinate

        # timeout: how long the queue's calls wait for a pooled connection (psycopg_pool's default is 30 s):
        # past it they fail, and `lab worker` waits for the database itself, within --db-outage.
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self.conninfo, timeout=POOL_WAIT_S))
        if measure is not None:
            from edgebench.lab.errors import StopRequested
            from edgebench.targets.locks import DeviceBusyError

            # A worker stopping mid-job puts the job back into the queue at once; a device another process
            # still measures (a job re-queued while its first worker finished it) is tried again later,
            # where it finds its run stored.
            retry = procrastinate.RetryStrategy(max_attempts=50, wait=5,
                                                retry_exceptions={DeviceBusyError, StopRequested})
            app.task(name=MEASURE_TASK, pass_context=True, retry=retry)(measure)
        return app


def open_lab(store_url: str | None) -> Lab:
    """The lab on `store_url` (a PostgreSQL store: SQLite cannot be shared by hosts)."""
    if not store_url:
        raise UsageError("the lab needs a shared results store: --store postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB "
                         "(or $EDGEBENCH_STORE). scripts/lab-db.sh setup creates one and prints its URL.")
    store = parse_store_url(store_url)
    if store.backend != "postgresql":
        raise UsageError(f"the lab needs a PostgreSQL store that every host reaches; received {store.shown}. "
                         "Expected --store postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB "
                         "(scripts/lab-db.sh setup creates one and prints its URL).")
    if importlib.util.find_spec("procrastinate") is None:
        raise StoreError(f"the lab's job queue is procrastinate, which this Python does not have. Install it: {LAB_EXTRA}")
    engine = create_store_engine(store)
    from procrastinate.schema import SchemaManager

    with write_transaction(engine) as conn:
        ensure_lab_schema(conn, SchemaManager.get_schema())
    return Lab(store, engine)

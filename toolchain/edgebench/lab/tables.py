"""The lab's own tables, next to the results store's in the same PostgreSQL database.

`lab_sessions` keeps what `lab submit` asked for (so any worker can rebuild the measurement plan),
`lab_models` the model files themselves (hosts share no filesystem), `lab_devices` what each worker
announced and its latest heartbeat. The job queue's tables are procrastinate's (`procrastinate_*`).
"""
from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, LargeBinary, MetaData, Table, Text, text
from sqlalchemy import inspect as sa_inspect

metadata = MetaData()

lab_sessions = Table(
    "lab_sessions", metadata,
    Column("session", Text, primary_key=True),
    Column("submitted_at_utc", Text, nullable=False),
    Column("submitted_by", Text, nullable=False),  # host and user
    Column("plan_json", Text, nullable=False),  # protocol, configs, models, devices: see lab/plan.py
)

lab_models = Table(
    "lab_models", metadata,
    Column("model_sha256", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

lab_devices = Table(
    "lab_devices", metadata,
    Column("worker", Text, primary_key=True),  # host/pid of the worker process
    Column("serial", Text, primary_key=True),
    Column("host", Text, nullable=False),
    Column("device_id", Text, nullable=False),
    Column("model", Text),
    Column("abi", Text, nullable=False),
    Column("state", Text, nullable=False),  # idle | measuring | stopped
    Column("job_id", Integer),
    Column("session", Text),
    Column("last_heartbeat_utc", Text, nullable=False),
)

_LAB_LOCK = 0x6564676C61620001  # pg_advisory_xact_lock key of the lab's schema creation


def ensure_lab_schema(conn: Connection, apply_queue_schema: str) -> None:
    """Create the lab's tables and the queue's schema when missing. Hosts that start together queue on
    an advisory lock: one creates, the others find it done. `apply_queue_schema`: procrastinate's SQL."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LAB_LOCK})
    metadata.create_all(conn)
    if "procrastinate_jobs" not in set(sa_inspect(conn).get_table_names()):
        conn.exec_driver_sql(apply_queue_schema.replace("%", "%%"))

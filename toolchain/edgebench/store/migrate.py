"""Create the results store's schema when missing, check its version, migrate older versions in place.

The same statements on SQLite and PostgreSQL. The whole of it runs in the caller's write transaction:
PostgreSQL's DDL is transactional, and hosts opening a new store at the same moment queue on an advisory
lock, so one creates (or migrates) it and the others find it done.
"""
from __future__ import annotations

from sqlalchemy import Connection, insert, select, text
from sqlalchemy import inspect as sa_inspect

from edgebench.errors import StoreError
from edgebench.store import schema as t

_SCHEMA_LOCK = 0x6564676562656E63  # pg_advisory_xact_lock key of schema creation and migration ("edgebenc")


def ensure_schema(conn: Connection, url: str) -> None:
    """Create, check or migrate the schema; `url` (password hidden) is for messages."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
    # The version first: a store of another version is refused before anything is created.
    tables = set(sa_inspect(conn).get_table_names())
    row = None
    if "meta" in tables:
        row = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).first()
    if row is None:
        foreign = _foreign_tables(conn, tables)
        if foreign:
            raise StoreError(
                f"results store {url} has no edgebench schema version but tables named like edgebench's with "
                f"other columns ({', '.join(foreign)}): it belongs to something else. Use an empty database "
                "or a new file (--store URL); nothing was changed.")
        t.metadata.create_all(conn)  # what is missing: all of it, or what an interrupted creation left
        conn.execute(insert(t.meta).values(key="schema_version", value=str(t.SCHEMA_VERSION)))
    elif row[0] in ("3", "4"):
        if row[0] == "3":
            _migrate_3_to_4(conn)
        _migrate_4_to_5(conn)
    elif row[0] != str(t.SCHEMA_VERSION):
        raise StoreError(_version_mismatch(url, row[0]))


def _version_mismatch(url: str, stored: str) -> str:
    ours = t.SCHEMA_VERSION
    if stored.isdigit() and int(stored) > ours:
        todo = ("it was written by a newer edgebench: upgrade this one (pip install -U edgebench) on every host "
                "that uses this store")
    else:
        todo = ("edgebench migrates versions 3 and 4 only: open it with the edgebench version that wrote it and "
                "export what you need (edgebench results export), or use a new store (--store URL, --workspace DIR)")
    return (f"results store {url} has schema version {stored}; this edgebench reads version {ours}. To use it, "
            f"{todo}. The store was not changed.")


def _foreign_tables(conn: Connection, tables: set[str]) -> list[str]:
    """Tables that carry one of our names but lack some of our columns (another application's)."""
    inspector = sa_inspect(conn)
    return sorted(name for name in tables & set(t.metadata.tables)
                  if not {c.name for c in t.metadata.tables[name].c}
                  <= {c["name"] for c in inspector.get_columns(name)})


def _migrate_3_to_4(conn: Connection) -> None:
    """Version 4 only adds the lineage tables and one nullable column. Each step checks first, so a store
    left half-migrated (edgebench before 0.1 let SQLite commit each DDL statement at once) completes."""
    t.metadata.create_all(conn, tables=[t.artifacts, t.artifact_links])
    if "rails_json" not in {c["name"] for c in sa_inspect(conn).get_columns("energy")}:
        conn.execute(text("ALTER TABLE energy ADD COLUMN rails_json TEXT"))
    conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="4"))


def _migrate_4_to_5(conn: Connection) -> None:
    """Version 5 adds one nullable column (runs stored before it keep NULL: their shapes are unknown).
    The column is added only when missing, then the version is set, so a store left half-migrated
    (the column added, the version not) completes on the next open."""
    if "input_shapes_json" not in {c["name"] for c in sa_inspect(conn).get_columns("runs")}:
        conn.execute(text("ALTER TABLE runs ADD COLUMN input_shapes_json TEXT"))
    conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="5"))

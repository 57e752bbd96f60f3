"""Backends of the results store's contract suite (tests/store/test_db.py).

Every test that takes the `store` or `store_url` fixture runs once per backend listed in STORE_BACKENDS, with
the same assertions. A backend is a fixture that returns `new_url(name) -> str`: the URL of a fresh, empty
store (one per name within a test), and tears down what it made after the test. PostgreSQL: one throwaway
server per test process, one database per name, dropped afterwards (tests/store/postgres.py).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.store.postgres import postgres_server, postgres_store_url  # noqa: F401 - fixtures

NewStoreUrl = Callable[[str], str]


@pytest.fixture
def sqlite_store_url(tmp_path: Path) -> NewStoreUrl:
    """SQLite: one file per store under the test's own tmp folder (removed with it)."""
    def new_url(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.sqlite"
    return new_url


STORE_BACKENDS = ["sqlite_store_url", "postgres_store_url"]


@pytest.fixture(params=STORE_BACKENDS, ids=lambda fixture: fixture.removesuffix("_store_url"))
def store_url(request: pytest.FixtureRequest) -> NewStoreUrl:
    new_url: NewStoreUrl = request.getfixturevalue(request.param)
    return new_url

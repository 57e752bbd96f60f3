"""Fixtures of the lab tests: a throwaway PostgreSQL (tests/store/postgres.py) and virtual phones."""
from __future__ import annotations

from tests.lab.labkit import lab, phones  # noqa: F401 - fixtures
from tests.store.postgres import postgres_server, postgres_store_url  # noqa: F401 - fixtures

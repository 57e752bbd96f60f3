"""Results store (SQLAlchemy Core; SQLite by default, PostgreSQL through a URL)."""
from edgebench.store.db import DeviceSample, LatencySample, ResultsStore, SavedRun

__all__ = ["DeviceSample", "LatencySample", "ResultsStore", "SavedRun"]

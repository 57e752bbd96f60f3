"""Results store (SQLAlchemy Core; SQLite by default, PostgreSQL through a URL)."""
from edgebench.store.buffered import DEFAULT_DB_OUTAGE_S, BufferedStore, StoreOutageError
from edgebench.store.db import DeviceSample, LatencySample, ResultsStore, SavedRun

__all__ = ["BufferedStore", "DEFAULT_DB_OUTAGE_S", "DeviceSample", "LatencySample", "ResultsStore", "SavedRun",
           "StoreOutageError"]

"""What a device worker and its slice loop share about stopping: the stop signal and the redo bound.
(Its own module so that bench/worker.py and bench/slice_worker.py need not import each other.)"""
from __future__ import annotations

MAX_REDO_ATTEMPTS = 3  # a run whose device dropped more often than this is stored as failed


class Interrupted(Exception):
    """The session was asked to stop (Ctrl-C, SIGTERM)."""

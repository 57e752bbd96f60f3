"""The suite's scheduling list names real files: a renamed slow file would silently fall back to the end
of the run (the two-worker suite then ends with one worker alone on it)."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import LONGEST_FIRST

ROOT = Path(__file__).resolve().parents[1]


def test_every_longest_first_file_exists_once():
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    assert [name for name in LONGEST_FIRST if not (ROOT / name).is_file()] == []

"""Shared helpers for the parser tests: read a real capture exactly as stored (CRLF kept)."""
from __future__ import annotations

from pathlib import Path

import pytest

REAL_DEVICE = Path(__file__).resolve().parents[2] / "fixtures" / "real-device"


def real_path(section: str, name: str) -> Path:
    matches = sorted(REAL_DEVICE.glob(f"{section}*/{name}"))
    assert len(matches) == 1, f"expected one capture {section}*/{name}, found {matches}"
    return matches[0]


def real_text(section: str, name: str) -> str:
    # newline="" keeps CRLF: the parsers must cope with it themselves.
    with open(real_path(section, name), encoding="utf-8", newline="") as handle:
        return handle.read()


@pytest.fixture
def real():
    return real_text

"""Fixtures shared by the battery tests: a calibration and a clean run of the synthetic gauge."""
from __future__ import annotations

import pytest

from edgebench.battery import Calibration, GaugeSeries, calibrate

from .synth import clean_run, idle_recording


@pytest.fixture(scope="module")
def cal() -> Calibration:
    return calibrate(idle_recording(), source="synthetic idle")


@pytest.fixture(scope="module")
def clean() -> GaugeSeries:
    return clean_run()[0]

"""What `tune` and `study run` use for `--target lab:...`: queue models on the lab's matching phones, wait, get the runs."""
from __future__ import annotations

import pytest

from edgebench.errors import UsageError
from edgebench.lab.remote import lab_conditions, measure_on_lab
from tests.lab.labkit import TINY, Lab, wait_exit


def test_lab_targets_are_told_apart_from_serials() -> None:
    assert lab_conditions("lab") == [] and lab_conditions("lab:model=Pixel 8") == ["model=Pixel 8"]
    assert lab_conditions("local") is None and lab_conditions("emulator-5554") is None
    assert lab_conditions("labrador:5555") is None  # an adb serial that starts with "lab"
    with pytest.raises(UsageError, match="lab:KEY=VALUE"):
        lab_conditions("lab:")


def test_models_measured_on_the_lab_come_back_as_stored_runs(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = lab.phones.serials[0]
    worker = lab.start_worker([serial], "w")
    lab.wait_for("the announced phone", "SELECT count(*) FROM lab_devices WHERE state = 'idle'", lambda r: r and r[0][0] == 1)
    monkeypatch.setenv("EDGEBENCH_STORE", lab.url)
    session, records = measure_on_lab(list(TINY), [f"serial={serial}"], runs=10, threads=(1, 2), poll_s=0.2)
    assert sorted((r.model, r.config.threads, r.status, r.target) for r in records) == sorted(
        (p.name, t, "ok", serial) for p in TINY for t in (1, 2))
    assert all(r.session == session and r.latency and r.latency.median_us for r in records)
    wait_exit(worker)

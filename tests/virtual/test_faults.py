"""Fault requests are validated before they reach a device; the link policy counts and paces."""
from __future__ import annotations

import asyncio
import time

import pytest

from edgebench.errors import UsageError
from edgebench.virtual.faults import FaultRequest, LinkFaults


def test_requests_round_trip_and_keep_meaningful_false_values() -> None:
    request = FaultRequest(no_space=False, usb_power=False, throttle=2)
    assert request.to_json() == {"no_space": False, "usb_power": False, "throttle": 2}
    assert FaultRequest.from_json(request.to_json()) == request
    assert FaultRequest().to_json() == {}


@pytest.mark.parametrize("fields, message", [
    ({"drop_after_bytes": 10, "drop_after_seconds": 1.0}, "not both"),
    ({"state": "sleepy"}, "--state must be one of"),
    ({"throttle": 9}, "0..6"),
    ({"battery_level": 120}, "0..100"),
    ({"slow_link_kbps": -1}, ">= 0"),
    ({"weak_charger_ma": -5}, ">= 0"),
    ({"weak_charger_ma": 50, "usb_power": False}, "needs USB power on"),
    ({"clear": True, "throttle": 1}, "give it alone"),
    ({"bogus": 1}, "unknown fault field"),
])
def test_bad_requests_say_what_is_wrong(fields: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        FaultRequest.from_json(fields)


def test_byte_budget_fires_the_drop_once() -> None:
    drops = []
    link = LinkFaults(on_drop=lambda: drops.append(1))
    link.bytes_left = 100
    link.count(60)
    assert drops == []
    link.count(60)
    link.count(1000)
    assert drops == [1] and link.bytes_left is None


def test_pacing_holds_transfers_to_the_rate() -> None:
    link = LinkFaults(on_drop=lambda: None)
    link.rate_bps = 100_000.0

    async def move() -> float:
        start = time.monotonic()
        for _ in range(5):
            await link.pace("out", 10_000)
        return time.monotonic() - start

    assert asyncio.run(move()) >= 0.45  # 50 kB at 100 kB/s

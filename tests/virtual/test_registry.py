"""Registry bookkeeping without starting devices: lookup, port choice, stale pid files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgebench.errors import UsageError
from edgebench.virtual import registry
from edgebench.virtual.device import DeviceConfig


def test_find_by_serial_adb_serial_or_port_and_reserved_ports(tmp_path: Path) -> None:
    config = DeviceConfig.new("pixel-8-like", "x86_64", registry.PORT_FIRST)
    layout = registry.create_device(tmp_path, config)
    for ref in (config.serial, f"127.0.0.1:{config.port}", f"localhost:{config.port}", str(config.port)):
        assert registry.find_device(tmp_path, ref).config == config
    with pytest.raises(UsageError, match=config.serial):
        registry.find_device(tmp_path, f"10.0.0.1:{config.port}")
    # A stopped device keeps its port: new devices get another one.
    assert registry.allocate_port(tmp_path) != config.port
    # A pid file naming a live process that is not this device's server means "stopped".
    layout.pid_file.write_text(f"{os.getpid()}\n")
    assert not registry.load_state(layout).running


def test_ports_adb_scans_are_refused() -> None:
    for port in (5554, 5555, 5585):
        with pytest.raises(UsageError, match="5554-5585"):
            registry.check_port(port)
    registry.check_port(5586)


def test_two_workspaces_starting_devices_at_once_do_not_pick_the_same_port(tmp_path: Path) -> None:
    # Two workspaces (or two test workers) cannot see each other's registries; when both took the first
    # free port, the second device to bind it failed with "address already in use".
    pairs = [(registry.allocate_port(tmp_path / "a"), registry.allocate_port(tmp_path / "b")) for _ in range(5)]
    assert any(a != b for a, b in pairs), pairs
    assert all(registry.PORT_FIRST <= p <= registry.PORT_LAST for pair in pairs for p in pair)

"""Entry point of one detached virtual-device process: `python -m edgebench.virtual.serve FOLDER`.

Writes FOLDER/server.pid, starts the device, writes FOLDER/status.json once it listens, and runs
until SIGTERM/SIGINT; then stops every device process and removes both files. Logs go to stderr
(the registry points it at FOLDER/server.log).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from edgebench.errors import EdgebenchError
from edgebench.virtual.device import DeviceLayout, VirtualDevice


async def serve(layout: DeviceLayout) -> int:
    config = layout.load_config()
    device = VirtualDevice(layout, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    try:
        await device.start()
    except (EdgebenchError, OSError) as exc:
        logging.error("device %s failed to start: %s", config.serial, exc)
        return 1
    status = {"pid": os.getpid(), "port": config.port, "init_pid": device.sandbox.init_pid,
              "serial": config.serial, "adb_serial": config.adb_serial, "profile": device.profile.name,
              "abi": config.abi, "shell_uid": device.sandbox.shell_uid, "aarch64": device.sandbox.aarch64,
              "control_socket": str(layout.folder / "control.sock")}
    tmp = layout.status_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(status) + "\n")
    tmp.replace(layout.status_file)
    logging.info("device %s (%s, %s) listening on 127.0.0.1:%d", config.serial, device.profile.name,
                 config.abi, config.port)
    try:
        await stop.wait()
    finally:
        logging.info("device %s stopping", config.serial)
        layout.status_file.unlink(missing_ok=True)
        await device.stop()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m edgebench.virtual.serve DEVICE_FOLDER", file=sys.stderr)
        return 2
    layout = DeviceLayout(Path(argv[1]).resolve())
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    layout.pid_file.write_text(f"{os.getpid()}\n")
    try:
        return asyncio.run(serve(layout))
    finally:
        try:
            if layout.pid_file.read_text().strip() == str(os.getpid()):
                layout.pid_file.unlink()
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv))

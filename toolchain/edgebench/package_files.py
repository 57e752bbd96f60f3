"""Files edgebench needs at run time, shipped inside the package (pyproject.toml's package-data).

They live beside the Python modules so an installed wheel finds them as an editable install does;
nothing is looked up beside the source tree.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
HARNESS_ROOT = PACKAGE_ROOT / "android_harness"  # C sources, CMakeLists.txt, driver, PROTOCOL.md
HARNESS_SOURCES = HARNESS_ROOT / "src"
DRIVER_SCRIPT = HARNESS_ROOT / "driver" / "driver.sh"
SLICE_SCRIPT = HARNESS_ROOT / "driver" / "slice.sh"  # several runs in one device call (targets/slice_protocol.py)
DEVICE_PROFILES = PACKAGE_ROOT / "virtual" / "device_profiles"  # the virtual device's profiles

"""Store selectors: `session=S`, `device=D`, `study=S` joined by commas, and the measures store rows carry."""
from __future__ import annotations

from edgebench.errors import UsageError

SELECTOR_KEYS = ("session", "device", "study")
STORE_MEASURES = ("latency_median_ms", "latency_p90_ms", "energy_mj")


def parse_selector(text: str) -> dict[str, str] | None:
    """{'session': S, ...} when `text` is a store selector, None when it is not one (a file path)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all("=" in p and p.split("=", 1)[0].strip() in SELECTOR_KEYS for p in parts):
        return None
    selector: dict[str, str] = {}
    for part in parts:
        key, value = (s.strip() for s in part.split("=", 1))
        if not value:
            raise UsageError(f"store selector {text!r}: {key}= has no value; e.g. session=20261206-1200-ab12")
        if key in selector:
            raise UsageError(f"store selector {text!r}: {key}= is given twice")
        selector[key] = value
    return selector

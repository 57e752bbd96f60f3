"""Every text format `inspect` knows, in one list. Parser modules add their TextFormat here."""
from __future__ import annotations

from edgebench.inspect.registry import TextFormat

TEXT_FORMATS: list[TextFormat] = []

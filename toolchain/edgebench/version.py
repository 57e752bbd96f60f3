"""edgebench's version, in a module of its own so every layer can record it without importing the
package's face (whose lazy API sits above them)."""
from __future__ import annotations

__version__ = "0.1.0"

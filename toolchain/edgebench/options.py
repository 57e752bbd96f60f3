"""Declared options with defaults and checks: a zoo model's [model] options, a dataset loader's options."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from edgebench.errors import UsageError


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    description: str
    check: Callable[[Any], Any]  # returns the normalized value or raises ValueError


def resolve_options(options: Sequence[Option], values: Mapping[str, Any], *, where: str, owner: str = "",
                    error: type[UsageError] = UsageError) -> dict[str, Any]:
    """Every option's value (given, checked; else its default). `owner` ends the unknown-option message."""
    known = {o.name: o for o in options}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise error(f"{where}: unknown option(s) {', '.join(unknown)}{owner}; "
                    f"allowed: {', '.join(known) or '(none)'}")
    out = {}
    for o in options:
        try:
            out[o.name] = o.check(values[o.name]) if o.name in values else o.default
        except ValueError as exc:
            raise error(f"{where}: option {o.name}: {exc}") from None
    return out

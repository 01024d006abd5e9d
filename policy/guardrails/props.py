"""Reading resource inputs the way the engine hands them to a policy pack.

Keys are camelCase, numbers are floats, and objects and lists arrive as read-only proxies
(Mapping / Sequence, not dict / list) that raise `UnknownValueError` when a value is only
known after deployment: the SDK then reports the policy as not runnable during preview,
and the update runs it again with every value known. So: read only the keys a check
needs, and never test for dict or list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

EMPTY: Mapping[str, Any] = {}


def mapping(value: Any) -> Mapping[str, Any]:
    """An object input, or an empty one when it is missing or not an object."""
    return value if isinstance(value, Mapping) else EMPTY


def entries(value: Any) -> list[Any]:
    """The elements of a list input ([] when it is missing or not a list)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def number(value: Any) -> int | None:
    """A whole-number input (ports, sizes) as an int; None when missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def owner(urn: str) -> dict[str, str]:
    """The project and stack a resource belongs to, read from its URN
    `urn:pulumi:<stack>::<project>::<type>::<name>` ({} when it is not one)."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return {}
    return {"project": parts[1], "stack": parts[0].removeprefix("urn:pulumi:")}

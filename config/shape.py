"""Bounds on a raw config's shape, checked before anything walks it whole.

A stack file is small, but YAML aliases can make it expand into billions of values, a value
can contain itself, and nesting or text can be arbitrarily deep or long. Whatever is given,
this check ends after visiting at most MAX_VALUES values, and later steps (defaults,
validation, formatting) only ever see configs within these bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 16
"""The deepest setting is 4 levels down (`catalog.models.<name>.<field>`)."""
MAX_VALUES = 10_000
"""Values in all, counted as often as aliases repeat them."""
MAX_TEXT = 65_536
"""Characters in one text (an SSH public key is at most 16 KiB)."""

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ShapeProblem:
    """Where the config leaves its bounds (the path from the top), and why."""

    path: Path
    value: Any
    reason: str
    fix: str


def _key(key: Any) -> str:
    return key if isinstance(key, str) else repr(key)[:40]


def shape_problem(config: Mapping[Any, Any]) -> ShapeProblem | None:
    """The first place where a config leaves its bounds, or None when it stays within them."""
    visited = 0

    def walk(value: Any, path: Path, ancestors: frozenset[int], top: Any) -> ShapeProblem | None:
        nonlocal visited
        visited += 1
        if visited > MAX_VALUES:
            return ShapeProblem(
                path[:1],
                top,
                f"holds more than {MAX_VALUES:,} values once its YAML aliases are expanded",
                "write the values out instead of nesting aliases of aliases",
            )
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return ShapeProblem(
                path,
                value,
                f"a text of {len(value):,} characters, longer than any setting takes",
                "check what was pasted here",
            )
        if not isinstance(value, Mapping | list | tuple):
            return None
        if id(value) in ancestors:
            return ShapeProblem(
                path,
                value,
                "contains itself (a YAML alias to a value that holds the alias)",
                "write the value out instead of the alias",
            )
        if len(path) >= MAX_DEPTH:
            return ShapeProblem(
                path,
                value,
                f"nests deeper than {MAX_DEPTH} levels, deeper than any setting",
                "check the indentation of the stack file",
            )
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        inner = ancestors | {id(value)}
        for key, item in items:
            problem = walk(item, (*path, key if isinstance(key, int) else _key(key)), inner, top)
            if problem is not None:
                return problem
        return None

    for key, value in config.items():
        problem = walk(value, (_key(key),), frozenset(), value)
        if problem is not None:
            return problem
    return None

"""Configuration problems, reported all at once and without a traceback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NAMESPACE = "metis-llm"
"""The Pulumi project name, which namespaces every config key of this program."""

NOT_SET = object()
"""Marks a problem about a key that has no value."""


def config_key(*path: str | int) -> str:
    """`config_key("chat", "hosts", 0)` -> `metis-llm:chat.hosts[0]`."""
    key = NAMESPACE + ":"
    for index, part in enumerate(path):
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += part if index == 0 else f".{part}"
    return key


def _show(value: Any) -> str:
    if value is NOT_SET:
        return "(not set)"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # e.g. an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's config: where, what value, why, and how to fix it."""

    key: str
    value: Any
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key} = {_show(self.value)}: {self.reason}. Fix: {self.fix}"


class ConfigError(Exception):
    """Every problem found in a stack's config, as one message."""

    def __init__(self, problems: list[Problem], headline: str = "invalid stack config") -> None:
        self.problems = problems
        count = len(problems)
        lines = [f"{headline} ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))

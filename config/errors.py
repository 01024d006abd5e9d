"""Configuration problems, reported all at once and without a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.display import SECRET, is_secret_key, redact, shown
from config.project import NAMESPACE

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


@dataclass(frozen=True, repr=False)
class Problem:
    """One thing wrong with a stack's config: where, what value, why, and how to fix it.

    Shown bounded and masked (`config.display`): a secret's value never appears, nor does
    anything in the message that looks like key material.
    """

    key: str
    value: Any
    reason: str
    fix: str
    secret: bool = False
    """The value is a secret (the key is one the engine holds as a secret)."""

    def __str__(self) -> str:
        if self.value is NOT_SET:
            value = "(not set)"
        elif self.secret or is_secret_key(self.key):
            value = SECRET
        else:
            value = shown(self.value)
        return redact(f"{self.key} = {value}: {self.reason}. Fix: {self.fix}")

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"


class ConfigError(Exception):
    """Every problem found in a stack's config, as one message."""

    def __init__(self, problems: list[Problem], headline: str = "invalid stack config") -> None:
        self.problems = problems
        count = len(problems)
        lines = [f"{headline} ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))

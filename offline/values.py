"""Resource inputs as flat `path -> value` leaves that remember their secretness.

The plan's tree and the plan diff both show inputs through these leaves, so a secret is
masked the same way everywhere: a value is shown only through `Leaf.shown`, which prints
`[secret]` for anything that was wrapped as a secret at any depth.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from offline.harness import is_secret, reveal

SECRET_MASK = "[secret]"

ENV_LIST_KEYS = frozenset({"envs"})
"""Inputs holding `NAME=value` lists (docker containers' environment). They are flattened by
variable name, so names stay visible while each value keeps the list's secretness, and a
diff names the variable that changed."""
_ENV_ITEM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Leaf:
    """One scalar (or list of scalars) of a resource's inputs."""

    value: Any
    """The revealed value: compare it, never print it (use `shown`)."""
    secret: bool

    @property
    def multiline(self) -> bool:
        return not self.secret and isinstance(self.value, str) and "\n" in self.value

    def shown(self) -> str:
        """The value as a reviewer may see it: secrets masked, numbers without `.0`."""
        return SECRET_MASK if self.secret else format_value(self.value)

    def summary(self) -> str:
        """One line for long texts (scripts, config files): their size and a hash."""
        if not self.multiline:
            return self.shown()
        digest = hashlib.sha256(self.value.encode()).hexdigest()[:12]
        return f"<text: {len(self.value.splitlines())} lines, sha256 {digest}>"


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)


def _is_scalar_list(value: list[Any]) -> bool:
    return all(not isinstance(item, dict | list) and not is_secret(item) for item in value)


def flatten(value: Any, path: str = "", secret: bool = False) -> dict[str, Leaf]:
    """`{"a": {"b": [1, 2]}, "c": [{"d": 3}]}` -> `{"a.b": [1, 2], "c[0].d": 3}`, each leaf
    secret when it or anything around it was wrapped as a secret."""
    if is_secret(value):
        return flatten(reveal(value), path, secret=True)
    if isinstance(value, dict):
        leaves: dict[str, Leaf] = {}
        for key, item in value.items():
            leaves |= flatten(item, f"{path}.{key}" if path else str(key), secret)
        return leaves
    if isinstance(value, list) and path.rsplit(".", 1)[-1] in ENV_LIST_KEYS:
        return _flatten_env(value, path, secret)
    if isinstance(value, list) and not _is_scalar_list(value):
        leaves = {}
        for index, item in enumerate(value):
            leaves |= flatten(item, f"{path}[{index}]", secret)
        return leaves
    return {path: Leaf(value, secret)}


def _flatten_env(items: list[Any], path: str, secret: bool) -> dict[str, Leaf]:
    leaves: dict[str, Leaf] = {}
    for index, item in enumerate(items):
        revealed = reveal(item)
        match = _ENV_ITEM.match(revealed) if isinstance(revealed, str) else None
        key = f"{path}.{match['name']}" if match else f"{path}[{index}]"
        leaves[key] = Leaf(match["value"] if match else revealed, secret or is_secret(item))
    return leaves

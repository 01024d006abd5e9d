"""Tags every AWS resource of a stack carries."""

from __future__ import annotations

from config.project import NAMESPACE


def stack_tags(stack: str, role: str) -> dict[str, str]:
    return {"project": NAMESPACE, "stack": stack, "role": role, "managed-by": "pulumi"}


def host_name_tag(stack: str, host: str) -> str:
    """The `Name` tag of a host's instance: `python -m ops` reads the host's name back from it."""
    return f"{NAMESPACE}-{stack}-{host}"


def host_of_name_tag(stack: str, name_tag: str) -> str | None:
    """The host's name in the stack config, from its instance's `Name` tag; None for another."""
    prefix = host_name_tag(stack, "")
    return name_tag.removeprefix(prefix) if name_tag.startswith(prefix) else None

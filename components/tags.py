"""Tags every AWS resource of a stack carries."""

from __future__ import annotations

from config.project import NAMESPACE


def stack_tags(stack: str, role: str) -> dict[str, str]:
    return {"project": NAMESPACE, "stack": stack, "role": role, "managed-by": "pulumi"}

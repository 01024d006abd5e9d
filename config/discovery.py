"""Where a stack's discovery record lives and which shape it has: shared by the program,
which writes it (renderers/discovery.py), and `python -m ops`, which reads it with the
standard library and boto3 alone."""

from __future__ import annotations

PARAMETER_TEMPLATE = "/metis-llm/{stack}/discovery"
VERSION = 1


def parameter_name(stack: str) -> str:
    return PARAMETER_TEMPLATE.format(stack=stack)

"""Where a stack's discovery record lives and which shape it has: shared by the program,
which writes it (renderers/discovery.py), and `python -m ops`, which reads it with the
standard library and boto3 alone."""

from __future__ import annotations

PARAMETER_TEMPLATE = "/metis-llm/{stack}/discovery"
VERSION = 1
CA_BUNDLE = "metis-llm-ca-bundle.pem"
"""The file Metis's clients trust the router with (SSL_CERT_FILE): the public roots plus the
stack's CA, as the rendered metis.yaml tells users to build it and `ops wake` writes it."""


def parameter_name(stack: str) -> str:
    return PARAMETER_TEMPLATE.format(stack=stack)

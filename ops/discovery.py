"""The stack's discovery record, published by the program (renderers/discovery.py) as an
SSM parameter: the router's URL, the served models, the review probe, the prices."""

from __future__ import annotations

import json
from typing import Any

from config.discovery import VERSION, parameter_name


class NoRecordError(LookupError):
    """The stack has no discovery record this command can read."""


def read_record(ssm: Any, stack: str) -> dict[str, Any]:
    name = parameter_name(stack)
    try:
        text = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        raise NoRecordError(
            f"no discovery record {name}: deploy the stack with this version of metis-llm "
            "(pulumi up) so that it publishes one"
        ) from None
    record = json.loads(text)
    if record.get("version") != VERSION:
        raise NoRecordError(
            f"{name} is version {record.get('version')}, which this command does not read: "
            "use the metis-llm checkout that deployed the stack"
        )
    return record

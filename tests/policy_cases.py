"""Running one policy of the pack on resources given as the engine hands them to `validate`
(camelCase inputs, float numbers, read-only proxies that raise on unknown values)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

OPTIONS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
    additional_secret_outputs=[],
)


def urn_of(resource_type: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::metis-llm::{resource_type}::{name}"


def stack_violations(
    policy: StackValidationPolicy,
    resources: list[tuple[str, str, dict[str, Any]]],
    *,
    config: dict[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """(urn, message) of what a stack policy reports for (type, name, props) resources, given
    as the engine gives them."""
    args = StackValidationArgs(
        [
            PolicyResource(
                resource_type,
                unknown_checking_proxy(deserialize_properties(props)),
                urn_of(resource_type, name),
                name,
                OPTIONS,
                None,
                None,
                [],
                {},
            )
            for resource_type, name, props in resources
        ],
        config,
    )
    found: list[tuple[str, str]] = []
    policy.validate(args, lambda message, urn=None: found.append((urn, message)))
    return found


def violations(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    resource_type: str,
    props: dict[str, Any],
    *,
    stack: str = "dev",
    config: dict[str, Any] | None = None,
) -> list[str]:
    """What a policy reports for one resource, given as the engine gives it (for a stack
    policy: a stack of that resource alone)."""
    name = "res"
    if isinstance(policy, StackValidationPolicy):
        return [
            m for _, m in stack_violations(policy, [(resource_type, name, props)], config=config)
        ]
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(deserialize_properties(props)),
        urn_of(resource_type, name, stack),
        name,
        OPTIONS,
        None,
        config,
    )
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found

"""Roles EventBridge Scheduler may assume act only on this stack's instances: a schedule's
role starts and stops instances, and the wrong scope would start or stop someone else's."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, StackValidationArgs

from .instances import INSTANCES
from .props import entries, mapping
from .rule import StackViolation, stack_guardrail

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
ALLOWED_ACTIONS = frozenset({"ec2:startinstances", "ec2:stopinstances"})
"""Compared in lower case: IAM action names are case-insensitive."""


def _document(value: Any) -> Mapping[str, Any]:
    """A policy document given as JSON text (as the program writes them) or as an object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return mapping(value)


def _listed(value: Any) -> list[Any]:
    """IAM takes one value or a list wherever a list is allowed."""
    return [value] if isinstance(value, str) else entries(value)


def trusts_scheduler(role: PolicyResource) -> bool:
    statements = _listed(_document(role.props.get("assumeRolePolicy")).get("Statement"))
    return any(
        SCHEDULER_PRINCIPAL in _listed(mapping(mapping(s).get("Principal")).get("Service"))
        for s in statements
    )


def _statement_problems(statement: Mapping[str, Any], instances: set[str]) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    for key in ("NotAction", "NotResource"):
        if key in statement:
            yield f"allows by {key}, which grants everything not listed"
    for action in _listed(statement.get("Action")):
        if str(action).lower() not in ALLOWED_ACTIONS:
            yield f"allows {action}, beyond starting and stopping instances"
    for resource in _listed(statement.get("Resource")):
        if resource not in instances:
            yield f"acts on {resource}, which is not one of this stack's instances"


def _policies_of(role: PolicyResource, resources: list[PolicyResource]) -> Iterator[Any]:
    """The role's inline policy documents, wherever they are declared."""
    for inline in entries(role.props.get("inlinePolicies")):
        yield mapping(inline).get("policy")
    for resource in resources:
        if resource.resource_type == ROLE_POLICY and resource.props.get("role") == role.props.get(
            "name"
        ):
            yield resource.props.get("policy")


def scheduler_role_problems(args: StackValidationArgs) -> Iterator[StackViolation]:
    resources = list(args.resources)
    instances = {str(r.props.get("arn")) for r in resources if r.resource_type in INSTANCES} - {
        "None"
    }
    for role in (r for r in resources if r.resource_type == ROLE and trusts_scheduler(r)):
        for resource in resources:
            if resource.resource_type == ATTACHMENT and resource.props.get(
                "role"
            ) == role.props.get("name"):
                policy = resource.props.get("policyArn")
                yield StackViolation(
                    role.urn, role.name, f"has the managed policy {policy} attached"
                )
        for document in _policies_of(role, resources):
            for statement in _listed(_document(document).get("Statement")):
                for problem in _statement_problems(mapping(statement), instances):
                    yield StackViolation(role.urn, role.name, problem)


SCHEDULER_ROLES_SCOPED = stack_guardrail(
    name="scheduler-roles-scoped",
    description="A role EventBridge Scheduler may assume only starts and stops the stack's "
    "own instances.",
    check=scheduler_role_problems,
    fix="give the scheduler's role one inline policy allowing only ec2:StartInstances and "
    "ec2:StopInstances on the ARNs of this stack's instances (components/schedule.py), and "
    "attach no managed policy to it",
)

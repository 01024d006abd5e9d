"""How every guardrail is built: a check over the resources of some types (or over the
whole stack), each problem it finds reported as a mandatory violation that ends with the
fix."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any, NamedTuple

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

Check = Callable[[ResourceValidationArgs], Iterable[str]]
"""Yields one sentence per problem of a resource (nothing when it complies)."""


class StackViolation(NamedTuple):
    urn: str
    resource: str
    problem: str


StackCheck = Callable[[StackValidationArgs], Iterable[StackViolation]]
"""Yields one violation per problem found among the stack's resources."""


def _mandatory(
    name: str,
    description: str,
    fix: str,
    severity: Severity,
    config_schema: PolicyConfigSchema | None,
) -> dict[str, Any]:
    """What every policy of the pack is given besides its check: mandatory, with its fix as
    the remediation."""
    return {
        "name": name,
        "description": description,
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": severity,
        "config_schema": config_schema,
        "remediation_steps": fix,
    }


def guardrail(
    *,
    name: str,
    description: str,
    resource_types: Collection[str],
    check: Check,
    fix: str,
    severity: Severity = Severity.HIGH,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    """A mandatory policy running `check` on resources of `resource_types` only."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in resource_types:
            return
        for problem in check(args):
            report_violation(f"{args.name} {problem}. Fix: {fix}", None)

    return ResourceValidationPolicy(
        validate=validate, **_mandatory(name, description, fix, severity, config_schema)
    )


def stack_guardrail(
    *,
    name: str,
    description: str,
    check: StackCheck,
    fix: str,
    severity: Severity = Severity.HIGH,
    config_schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    """A mandatory policy running `check` over all the stack's resources at once; each
    violation is reported against its resource."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for violation in check(args):
            report_violation(f"{violation.resource} {violation.problem}. Fix: {fix}", violation.urn)

    return StackValidationPolicy(
        validate=validate, **_mandatory(name, description, fix, severity, config_schema)
    )

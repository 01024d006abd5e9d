"""How every guardrail is built: a check over the resources of some types, each problem it
finds reported as a mandatory violation that ends with the fix."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

Check = Callable[[ResourceValidationArgs], Iterable[str]]
"""Yields one sentence per problem of a resource (nothing when it complies)."""


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
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=severity,
        config_schema=config_schema,
        remediation_steps=fix,
    )

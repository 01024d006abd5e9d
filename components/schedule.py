"""Working hours: EventBridge Scheduler starts and stops exactly this stack's instances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.host import Host
from components.tags import stack_tags
from config.settings import ScheduleConfig
from renderers.schedule import (
    RETRY_POLICY,
    TARGETS,
    start_stop_policy,
    target_input,
    trust_policy,
)


@dataclass(frozen=True)
class WorkingHoursArgs:
    schedule: ScheduleConfig
    hosts: Mapping[str, Host]
    stack: str


class WorkingHours(pulumi.ComponentResource):
    """A start and a stop schedule, each calling EC2 directly (a universal target) with the
    stack's instance ids, through a role that only EventBridge Scheduler of this account
    may assume and that may only start and stop those instances."""

    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkingHoursArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("metis-llm:schedule:WorkingHours", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        hosts = list(args.hosts.values())

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=account.account_id.apply(trust_policy),
            tags=stack_tags(args.stack, "schedule"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-start-stop",
            role=role.id,
            policy=pulumi.Output.all(*(host.arn for host in hosts)).apply(start_stop_policy),
            opts=child,
        )
        instance_ids = pulumi.Output.all(*(host.instance_id for host in hosts))
        action: Literal["start", "stop"]
        for action in ("start", "stop"):
            aws.scheduler.Schedule(
                f"{name}-{action}",
                description=f"metis-llm {args.stack}: {action} the stack's instances",
                schedule_expression=getattr(args.schedule, action).strip(),
                schedule_expression_timezone=args.schedule.timezone,
                flexible_time_window={"mode": "OFF"},
                target={
                    "arn": TARGETS[action],
                    "role_arn": role.arn,
                    "input": instance_ids.apply(target_input),
                    "retry_policy": RETRY_POLICY,
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
            )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})

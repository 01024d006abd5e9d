"""Working hours as EventBridge Scheduler sees them: the universal targets that start and
stop the stack's instances, and a role that may do only that, only to them.

Facts and sources: docs/reference/idle-cost.md ("EventBridge Scheduler").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
START_STOP_ACTIONS = ("ec2:StartInstances", "ec2:StopInstances")
TARGETS: dict[Literal["start", "stop"], str] = {
    "start": "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
    "stop": "arn:aws:scheduler:::aws-sdk:ec2:stopInstances",
}
"""Universal targets: arn:aws:scheduler:::aws-sdk:<service>:<apiAction>."""
RETRY_POLICY = {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 5}
"""A start refused for capacity is tried again for up to an hour."""


def trust_policy(account_id: str) -> str:
    """Only EventBridge Scheduler, acting for this account, may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": SCHEDULER_PRINCIPAL},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


def start_stop_policy(instance_arns: Sequence[str]) -> str:
    """Start and stop these instances, and nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": list(START_STOP_ACTIONS),
                    "Resource": sorted(instance_arns),
                }
            ],
        }
    )


def target_input(instance_ids: Sequence[str]) -> str:
    """The API request a target sends: StartInstances/StopInstances take `InstanceIds`."""
    return json.dumps({"InstanceIds": sorted(instance_ids)})

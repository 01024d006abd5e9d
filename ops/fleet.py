"""A stack's instances, found by the tags the program puts on them (components/tags.py), and
started or stopped through EC2."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.tags import host_of_name_tag, stack_tags

LIVE_STATES = ("pending", "running", "stopping", "stopped")
"""Instances that can run again; terminated (and shutting-down) ones are gone."""
CAPACITY_ERRORS = frozenset(
    {
        "InsufficientInstanceCapacity",
        "InsufficientHostCapacity",
        "InsufficientCapacity",
        "UnfulfillableCapacity",
    }
)
"""EC2 error codes meaning "no capacity for this type here now" (docs/reference/idle-cost.md)."""


@dataclass(frozen=True)
class Host:
    name: str
    """The host's name in the stack config (from the instance's Name tag)."""
    instance_id: str
    instance_type: str
    state: str
    """EC2's state name: pending, running, stopping or stopped."""
    public_ip: str | None = None
    """While it runs (and has one): what `dashboard` reaches over SSH in ssh mode."""


def _host(instance: dict[str, Any], stack: str) -> Host:
    tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
    return Host(
        name=host_of_name_tag(stack, tags.get("Name", "")) or instance["InstanceId"],
        instance_id=instance["InstanceId"],
        instance_type=instance["InstanceType"],
        state=instance["State"]["Name"],
        public_ip=instance.get("PublicIpAddress"),
    )


def find_hosts(ec2: Any, stack: str) -> list[Host]:
    """Every live instance tagged with the project and this stack, by host name."""
    owner = stack_tags(stack, "")
    filters = [
        {"Name": "tag:project", "Values": [owner["project"]]},
        {"Name": "tag:stack", "Values": [owner["stack"]]},
        {"Name": "instance-state-name", "Values": list(LIVE_STATES)},
    ]
    hosts = [
        _host(instance, stack)
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters)
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
    ]
    return sorted(hosts, key=lambda host: host.name)


def states(ec2: Any, hosts: Sequence[Host]) -> dict[str, str]:
    """The current state of each host's instance, by instance id."""
    found = ec2.describe_instances(InstanceIds=[host.instance_id for host in hosts])
    return {
        instance["InstanceId"]: instance["State"]["Name"]
        for reservation in found["Reservations"]
        for instance in reservation["Instances"]
    }

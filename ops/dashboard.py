"""`python -m ops dashboard STACK`: a port forward from this machine to the stack's Grafana.

Grafana listens on the router host's 127.0.0.1 only. In `ssm` access mode the forward is a
Session Manager session with AWS's `AWS-StartPortForwardingSession` document (to port 3000
of the instance itself: no inbound port, no SSH key); in `ssh` mode it is `ssh -N -L` with the
same options `pulumi up` uses. The router host is found by its tags (`project`, `stack`,
`Name`), as the program sets them, among running instances.

Needs the AWS CLI v2 with the Session Manager plugin (ssm mode) or ssh (ssh mode), AWS
credentials allowed `ec2:DescribeInstances` and, in ssm mode, `ssm:StartSession` on the
instance and the document (docs/iam/deployer-policy.json grants both).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from config.ports import GRAFANA_PORT
from config.project import NAMESPACE
from config.settings import AccessConfig, Settings
from renderers.grafana import ADMIN_USER
from renderers.remote_access import SSH_USER, ssh_options

PORT_FORWARD_DOCUMENT = "AWS-StartPortForwardingSession"


class DashboardError(Exception):
    """Why no port forward can be opened; the message says what to do."""


@dataclass(frozen=True)
class RouterHost:
    instance_id: str
    public_ip: str | None


def host_tag_name(stack: str, host: str) -> str:
    """The `Name` tag the program gives a host (components/host.py)."""
    return f"{NAMESPACE}-{stack}-{host}"


def find_router_host(ec2: Any, stack: str, host: str) -> RouterHost:
    """The running instance tagged as the stack's router host."""
    filters = [
        {"Name": "tag:project", "Values": [NAMESPACE]},
        {"Name": "tag:stack", "Values": [stack]},
        {"Name": "tag:Name", "Values": [host_tag_name(stack, host)]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    found = [
        instance
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters)
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
    ]
    if not found:
        raise DashboardError(
            f"no running instance tagged Name={host_tag_name(stack, host)} in stack {stack}: "
            "is the stack deployed, its router host started, and the region right?"
        )
    if len(found) > 1:
        ids = ", ".join(sorted(instance["InstanceId"] for instance in found))
        raise DashboardError(f"several running instances are the router host of {stack}: {ids}")
    (instance,) = found
    return RouterHost(instance["InstanceId"], instance.get("PublicIpAddress"))


def forward_command(
    access: AccessConfig, region: str, router: RouterHost, local_port: int
) -> list[str]:
    """The command that forwards localhost:local_port to Grafana on the router host."""
    if access.mode == "ssm":
        parameters = {"portNumber": [str(GRAFANA_PORT)], "localPortNumber": [str(local_port)]}
        return [
            "aws", "ssm", "start-session",
            "--region", region,
            "--target", router.instance_id,
            "--document-name", PORT_FORWARD_DOCUMENT,
            "--parameters", json.dumps(parameters, separators=(",", ":")),
        ]  # fmt: skip
    if router.public_ip is None:
        raise DashboardError(f"{router.instance_id} has no public IP to reach over SSH")
    return [
        "ssh", *ssh_options(access, region, router.instance_id),
        "-N", "-L", f"{local_port}:127.0.0.1:{GRAFANA_PORT}",
        f"{SSH_USER}@{router.public_ip}",
    ]  # fmt: skip


def instructions(stack: str, local_port: int) -> str:
    return (
        f"Grafana of stack {stack}: http://localhost:{local_port} (user {ADMIN_USER}, password: "
        f"pulumi stack output grafana_admin_password --show-secrets --stack {stack}). "
        "Ctrl-C closes the forward."
    )


def open_dashboard(
    stack: str, settings: Settings, region: str, *, local_port: int, dry_run: bool
) -> int:
    if not settings.monitoring.enabled:
        raise DashboardError(
            f"stack {stack} has no monitoring (metis-llm:monitoring.enabled: false)"
        )
    import boto3  # only here: the other commands and the tests of the command need no AWS

    router = find_router_host(boto3.client("ec2", region_name=region), stack, settings.router.host)
    command = forward_command(settings.access, region, router, local_port)
    print(instructions(stack, local_port), file=sys.stderr)
    print(shlex.join(command), file=sys.stderr)
    if dry_run:
        return 0
    os.execvp(command[0], command)
    return 0  # not reached: exec replaces this process

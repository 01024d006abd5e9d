"""`python -m ops dashboard STACK`: a port forward from this machine to the stack's Grafana.

Grafana listens on the router host's 127.0.0.1 only. In `ssm` access mode the forward is a
Session Manager session with AWS's `AWS-StartPortForwardingSession` document (to port 3000
of the instance itself: no inbound port, no SSH key); in `ssh` mode it is `ssh -N -L` with the
same options `pulumi up` uses. The router host is found by its tags among the stack's
instances (`fleet`), the access mode and whether monitoring is on in the stack file, which
this command reads from the checkout (unlike wake, sleep and status: it is for a person at
their machine, not a CI runner).

Needs the AWS CLI v2 with the Session Manager plugin (ssm mode) or ssh (ssh mode), AWS
credentials allowed `ec2:DescribeInstances` and, in ssm mode, `ssm:StartSession` on the
instance and the document (docs/iam/deployer-policy.json grants both).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from typing import TYPE_CHECKING, Any

from config.ports import GRAFANA_PORT
from ops.fleet import Host, find_hosts
from ops.stack import UsageError, connect
from ops.waiting import Say

if TYPE_CHECKING:
    from config.settings import AccessConfig

PORT_FORWARD_DOCUMENT = "AWS-StartPortForwardingSession"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="open a port forward to the stack's Grafana",
        description="Forward localhost:PORT to Grafana on the stack's router host (Session "
        "Manager in ssm mode, SSH in ssh mode).",
    )
    parser.add_argument("stack", help="a stack name (dev: Pulumi.dev.yaml) or a stack file")
    parser.add_argument("--region", help="default: the stack file's aws:region")
    parser.add_argument("--local-port", type=int, default=GRAFANA_PORT)
    parser.add_argument(
        "--dry-run", action="store_true", help="print the command instead of running it"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, say: Say) -> None:
    # The stack file needs the project's own dependencies (pydantic, PyYAML), which wake,
    # sleep and status do without: imported here only.
    from config.errors import ConfigError
    from offline.stackfile import PlanError, find_stack_file, read_stack_file, stack_name_of
    from renderers.grafana import ADMIN_USER

    try:
        stack_file = find_stack_file(args.stack)
        config = read_stack_file(stack_file)
        settings = config.settings()
    except (ConfigError, PlanError) as error:
        raise UsageError(str(error)) from None
    stack = stack_name_of(stack_file)
    if not settings.monitoring.enabled:
        raise UsageError(f"stack {stack} has no monitoring (metis-llm:monitoring.enabled: false)")
    aws = connect(args.region or config.values.get("aws:region"))
    router = router_host(aws.ec2, stack, settings.router.host)
    command = forward_command(settings.access, aws.region, router, args.local_port)
    say(
        f"Grafana of stack {stack}: http://localhost:{args.local_port} (user {ADMIN_USER}, "
        f"password: pulumi stack output grafana_admin_password --show-secrets --stack {stack}). "
        "Ctrl-C closes the forward."
    )
    say(shlex.join(command))
    if not args.dry_run:
        os.execvp(command[0], command)  # replaces this process


def router_host(ec2: Any, stack: str, host: str) -> Host:
    """The stack's running router host."""
    running = [h for h in find_hosts(ec2, stack) if h.name == host and h.state == "running"]
    if not running:
        raise UsageError(
            f"no running instance of host {host} in stack {stack}: is the stack deployed, its "
            f"router host started (python -m ops wake {stack}), and the region right?"
        )
    if len(running) > 1:
        ids = ", ".join(sorted(h.instance_id for h in running))
        raise UsageError(f"several running instances are the router host of {stack}: {ids}")
    return running[0]


def forward_command(access: AccessConfig, region: str, router: Host, local_port: int) -> list[str]:
    """The command that forwards localhost:local_port to Grafana on the router host."""
    from renderers.remote_access import SSH_USER, ssh_options

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
        raise UsageError(f"{router.instance_id} has no public IP to reach over SSH")
    return [
        "ssh", *ssh_options(access, region, router.instance_id),
        "-N", "-L", f"{local_port}:127.0.0.1:{GRAFANA_PORT}",
        f"{SSH_USER}@{router.public_ip}",
    ]  # fmt: skip

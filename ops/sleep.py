"""`python -m ops sleep STACK`: stop the hosts that run and wait until every host is stopped."""

from __future__ import annotations

import argparse

from ops import waiting
from ops.stack import Aws, OpsError, add_stack_arguments, connect, stack_hosts


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("sleep", help="stop the stack's hosts")
    add_stack_arguments(parser)
    waiting.add_wait_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, say: waiting.Say) -> None:
    sleep(connect(args.region), args.stack, waiting.waits_of(args), waiting.RealClock(), say)


def sleep(
    aws: Aws, stack: str, waits: waiting.Waits, clock: waiting.Clock, say: waiting.Say
) -> None:
    hosts = stack_hosts(aws, stack)
    running = [host for host in hosts if host.state in ("pending", "running")]
    if running:
        aws.ec2.stop_instances(InstanceIds=[host.instance_id for host in running])
        say(f"stopping {', '.join(host.name for host in running)}")
    progress = waiting.Progress(clock, waits, say, clock.now())
    try:
        progress.wait_for("every host to stop", waiting.all_in(aws, hosts, "stopped"))
    except waiting.WaitTimeoutError as error:
        minutes = int(waits.timeout // 60)
        raise OpsError(f"{stack} did not stop within {minutes} minutes, {error}") from None
    say(f"{stack} is asleep: no instance bills for compute; disks and Elastic IPs still do")

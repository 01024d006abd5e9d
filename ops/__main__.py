"""python -m ops wake|sleep|status STACK [--region REGION]

Needs AWS credentials (the standard boto3 chain: environment, profile, OIDC role in CI) and,
for `wake`, the router key in VLLM_API_KEY, as Metis's runner has it. Exit status: 0 done,
1 the stack did not get there (timeout, no capacity, reviews not answered), 2 nothing to do
it on (no such stack, no discovery record, no key, no region).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from ops import commands
from ops.commands import Aws, OpsError, RealClock, UsageError, Waits

KEY_ENV = "VLLM_API_KEY"
DEFAULTS = Waits()


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m ops", description=__doc__.split("\n\n")[1])
    parse.add_argument("command", choices=["wake", "sleep", "status"])
    parse.add_argument("stack", help="the Pulumi stack name, e.g. dev")
    parse.add_argument("--region", help="default: AWS_REGION or AWS_DEFAULT_REGION")
    parse.add_argument(
        "--metis-config",
        type=Path,
        help="wake: once ready, write the stack's metis.yaml here",
    )
    parse.add_argument(
        "--timeout",
        type=float,
        default=DEFAULTS.timeout,
        help=f"seconds wake or sleep waits in all (default {DEFAULTS.timeout:g})",
    )
    parse.add_argument(
        "--interval",
        type=float,
        default=DEFAULTS.interval,
        help=f"seconds between checks (default {DEFAULTS.interval:g})",
    )
    return parse


def aws(region: str | None) -> Aws:
    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        raise UsageError("no AWS region: pass --region or set AWS_REGION")
    return Aws(session.client("ec2"), session.client("ssm"), session.region_name)


def run(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    waits = Waits(timeout=args.timeout, interval=args.interval)
    say = lambda line: print(line, flush=True)  # noqa: E731
    try:
        clients = aws(args.region)
        if args.command == "wake":
            key = os.environ.get(KEY_ENV)
            if not key:
                raise UsageError(
                    f"{KEY_ENV} is not set: wake checks the router with the key Metis uses "
                    "(the stack output api_key)"
                )
            commands.wake(clients, args.stack, key, waits, RealClock(), say, args.metis_config)
        elif args.command == "sleep":
            commands.sleep(clients, args.stack, waits, RealClock(), say)
        else:
            commands.status(clients, args.stack, say)
    except OpsError as error:
        print(f"ops {args.command} {args.stack}: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

"""python -m ops wake|sleep|status|dashboard STACK: wake, put to sleep, inspect a deployed
stack or open its dashboards.

One module per command, each adding its own subcommand (COMMANDS). wake, sleep and status
need AWS credentials (boto3's standard chain: environment, profile, an OIDC role in CI) and
the stack's name, and import nothing beyond boto3 and the standard library: a CI runner runs
them from a checkout after `pip install boto3`. A command that needs more imports it inside
its `run` (dashboard does: it reads the stack file). Exit status: 0 done, 1 the stack did not
get there (timeout, no capacity, reviews not answered), 2 nothing to do it on (no such stack,
no discovery record, no key, no region, no running router host, no monitoring).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ops import dashboard, sleep, status, wake
from ops.stack import OpsError

COMMANDS = (wake, sleep, status, dashboard)
"""Each module: `add_parser(subparsers)`, which sets `run(args, say)` as the default; `run`
returns None when done (or an exit status) and raises OpsError when not."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        exit_status = args.run(args, lambda line: print(line, flush=True))
    except OpsError as error:
        print(f"ops {args.command} {args.stack}: {error}", file=sys.stderr)
        return error.exit_code
    return exit_status or 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m ops dashboard STACK [--local-port N] [--dry-run]`.

Exit codes: 0 on success (the forward runs until Ctrl-C), 2 on any error (unknown stack,
invalid stack config, no running router host, no AWS credentials).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from config.errors import ConfigError
from config.ports import GRAFANA_PORT
from offline.stackfile import PlanError, find_stack_file, read_stack_file, stack_name_of
from ops.dashboard import DashboardError, open_dashboard

EXIT_ERROR = 2
DEFAULT_REGION = "us-east-1"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dashboard = commands.add_parser(
        "dashboard",
        help="open a port forward to the stack's Grafana",
        description="Forward localhost:PORT to Grafana on the stack's router host (Session "
        "Manager in ssm mode, SSH in ssh mode).",
    )
    dashboard.add_argument("stack", help="a stack name (dev: Pulumi.dev.yaml) or a stack file")
    dashboard.add_argument("--local-port", type=int, default=GRAFANA_PORT)
    dashboard.add_argument(
        "--dry-run", action="store_true", help="print the command instead of running it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        stack_file = find_stack_file(args.stack)
        config = read_stack_file(stack_file)
        settings = config.settings()
        region = str(config.values.get("aws:region") or DEFAULT_REGION)
        stack = stack_name_of(stack_file)
        return open_dashboard(
            stack, settings, region, local_port=args.local_port, dry_run=args.dry_run
        )
    except (ConfigError, PlanError, DashboardError) as error:
        print(error, file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

"""`python -m ops status STACK`: each host's state and what it costs an hour now."""

from __future__ import annotations

import argparse
from typing import Any

from ops.discovery import NoRecordError, read_record
from ops.stack import Aws, add_stack_arguments, connect, stack_hosts
from ops.waiting import Say


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("status", help="each host's state and hourly cost")
    add_stack_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, say: Say) -> None:
    status(connect(args.region), args.stack, say)


def status(aws: Aws, stack: str, say: Say) -> None:
    """A table of the hosts; what the stack costs now and with every host running. Without a
    discovery record (a stack deployed before it had one) the states alone."""
    hosts = stack_hosts(aws, stack)
    try:
        record: dict[str, Any] | None = read_record(aws.ssm, stack)
    except NoRecordError:
        record = None
    prices: dict[str, float] = record["usd_per_hour"] if record else {}
    say(f"stack {stack} in {aws.region}" + (f", router {record['router_url']}" if record else ""))
    rows = [("host", "instance", "type", "state", "$/h now")]
    now = 0.0
    for host in hosts:
        price = prices.get(host.instance_type)
        billed = price if host.state in ("pending", "running") and price is not None else 0.0
        now += billed
        rows.append(
            (host.name, host.instance_id, host.instance_type, host.state, _usd(billed, price))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if record is None:
        say("prices unknown: the stack has no discovery record (deploy it with this version)")
        return
    running = sum(prices.get(host.instance_type, 0.0) for host in hosts)
    say(f"now ${now:.2f}/h; ${running:.2f}/h with every host running (on-demand list prices)")
    if record.get("idle_stop_minutes"):
        minutes = record["idle_stop_minutes"]
        say(f"idle stop: each host stops after {minutes} minutes without a request")


def _usd(billed: float, price: float | None) -> str:
    if price is None:
        return "?"
    return f"{billed:.2f}" if billed else f"0.00 ({price:.2f} running)"

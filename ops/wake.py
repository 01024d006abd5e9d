"""`python -m ops wake STACK`: start what is stopped, then wait until the router answers its
readiness check, lists both models, embeds and answers a review-shaped call with a valid
function call; optionally write the stack's metis.yaml and the CA bundle Metis trusts the
router with.

The router's address and scheme come from the discovery record's `router_url` (the stack
output of the same name), never from here."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from config.discovery import CA_BUNDLE
from ops import router
from ops.fleet import CAPACITY_ERRORS, Host
from ops.stack import (
    Aws,
    OpsError,
    UsageError,
    add_stack_arguments,
    connect,
    stack_hosts,
    stack_record,
)
from ops.waiting import (
    Check,
    Clock,
    Progress,
    RealClock,
    Say,
    Waits,
    WaitTimeoutError,
    add_wait_arguments,
    all_in,
    waits_of,
)

KEY_ENV = "VLLM_API_KEY"
"""The router key, where Metis's runner has it (the stack output api_key)."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "wake",
        help="start the stack and wait until it answers reviews",
        description=f"Needs the router key in {KEY_ENV}, as Metis's runner has it.",
    )
    add_stack_arguments(parser)
    parser.add_argument(
        "--metis-config",
        type=Path,
        help=f"once ready, write the stack's metis.yaml here, and beside it {CA_BUNDLE} "
        "(for SSL_CERT_FILE) when the router's certificate comes from the stack's own CA",
    )
    add_wait_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, say: Say) -> None:
    key = os.environ.get(KEY_ENV)
    if not key:
        raise UsageError(
            f"{KEY_ENV} is not set: wake checks the router with the key Metis uses "
            "(the stack output api_key)"
        )
    aws = connect(args.region)
    wake(aws, args.stack, key, waits_of(args), RealClock(), say, args.metis_config)


def wake(
    aws: Aws,
    stack: str,
    key: str,
    waits: Waits,
    clock: Clock,
    say: Say,
    metis_config: Path | None = None,
) -> None:
    """Start the stopped hosts (a host still stopping first stops), then wait for the router."""
    hosts = stack_hosts(aws, stack)
    record = stack_record(aws, stack)
    progress = Progress(clock, waits, say, clock.now())
    for host in hosts:
        say(f"{host.name} ({host.instance_id}, {host.instance_type}): {host.state}")
    stopping = [host for host in hosts if host.state == "stopping"]
    if stopping:
        progress.wait_for("the stopping hosts to stop", all_in(aws, stopping, "stopped"))
    stopped = [host for host in hosts if host.state in ("stopped", "stopping")]
    if stopped:
        _start(aws, stopped)
        say(f"starting {', '.join(host.name for host in stopped)}")
    request = min(waits.request_timeout, waits.timeout)
    try:
        progress.wait_for("every host to run", all_in(aws, hosts, "running"))
        progress.wait_for("the router", lambda: router.liveliness(record, request))
        progress.wait_for("both models", lambda: router.models(record, key, request))
        progress.wait_for("the embedding model", lambda: router.embedding(record, key, request))
        progress.wait_for("a review", _review_check(record, key, request))
    except WaitTimeoutError as error:
        minutes = record.get("idle_stop_minutes")
        after = (
            f"the idle stop stops them after {minutes} minutes without a request, or run"
            if minutes
            else "run"
        )
        raise OpsError(
            f"{stack} was not ready within {int(waits.timeout // 60)} minutes, {error}. Its hosts "
            f"keep running: {after} `python -m ops sleep {stack}`"
        ) from None
    say(f"[{progress.elapsed()}] {stack} is ready: {record['router_url']}")
    if metis_config is not None:
        _write_metis_files(record, metis_config, say)


def _write_metis_files(record: dict[str, Any], metis_config: Path, say: Say) -> None:
    """metis.yaml, and the CA bundle Metis's clients need when the stack has its own CA."""
    metis_config.write_text(record["metis_config"])
    say(f"wrote {metis_config} (metis --config {metis_config}; the key in {KEY_ENV})")
    bundle = router.ca_bundle(record)
    if bundle is not None:
        path = metis_config.with_name(CA_BUNDLE)
        path.write_text(bundle)
        say(f"wrote {path} (public roots and the stack's CA): export SSL_CERT_FILE={path}")


def _start(aws: Aws, hosts: list[Host]) -> None:
    try:
        aws.ec2.start_instances(InstanceIds=[host.instance_id for host in hosts])
    except ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        if code in CAPACITY_ERRORS:
            types = ", ".join(sorted({host.instance_type for host in hosts}))
            raise OpsError(
                f"AWS has no capacity for {types} in {aws.region} now ({code}: {message}). "
                "Nothing was started; try again in a few minutes"
            ) from None
        raise OpsError(f"EC2 refused to start the hosts: {code}: {message}") from None


def _review_check(record: dict[str, Any], key: str, timeout: float) -> Check:
    """A review through the router; a chat model answering with text fails the wake at once
    (it will not start answering with function calls by waiting)."""

    def check() -> str | None:
        problem, transient = router.review(record, key, timeout)
        if problem is not None and not transient:
            raise OpsError(f"the router answers, but not with reviews Metis can use: {problem}")
        return problem

    return check

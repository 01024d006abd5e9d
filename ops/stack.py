"""What every command starts from: AWS clients for a region, the stack's hosts found by their
tags, the stack's discovery record, and the two ways a command fails."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import boto3

from config.project import NAMESPACE
from ops.discovery import NoRecordError, read_record
from ops.fleet import Host, find_hosts


class OpsError(Exception):
    """A failure to report in one message; `exit_code` 1 (the stack) or 2 (the request)."""

    exit_code = 1


class UsageError(OpsError):
    """Nothing to do it on: no such stack, no record, no key, no region."""

    exit_code = 2


@dataclass(frozen=True)
class Aws:
    ec2: Any
    ssm: Any
    region: str


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """STACK and --region: all a command needs to find a stack."""
    parser.add_argument("stack", help="the Pulumi stack name, e.g. dev")
    parser.add_argument("--region", help="default: AWS_REGION or AWS_DEFAULT_REGION")


def connect(region: str | None) -> Aws:
    """Clients from boto3's standard credential chain, in `region` or the environment's."""
    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        raise UsageError("no AWS region: pass --region or set AWS_REGION")
    return Aws(session.client("ec2"), session.client("ssm"), session.region_name)


def stack_hosts(aws: Aws, stack: str) -> list[Host]:
    hosts = find_hosts(aws.ec2, stack)
    if not hosts:
        raise UsageError(
            f"no instances tagged project={NAMESPACE}, stack={stack} in {aws.region}: check the "
            "stack name and the region (--region, or AWS_REGION)"
        )
    return hosts


def stack_record(aws: Aws, stack: str) -> dict[str, Any]:
    try:
        return read_record(aws.ssm, stack)
    except NoRecordError as error:
        raise UsageError(f"{error} (region {aws.region})") from None

"""wake, sleep and status: what each does with a stack's instances, its router and the
discovery record. Time is injected (a `Clock`), so tests run the waits on a virtual clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ops import router
from ops.discovery import NoRecordError, read_record
from ops.fleet import CAPACITY_ERRORS, Host, find_hosts, states

Say = Callable[[str], None]


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Waits:
    timeout: float = 30 * 60
    """The whole wake: boot, containers, weights from disk, compile cache, first answers
    (expected 3-10 minutes after a stop, README: Fast warm start)."""
    interval: float = 10
    request_timeout: float = 300
    """One HTTP request or review probe: a first generation on a cold GPU can take a while."""
    progress_every: float = 60
    """A "still waiting" line at least this often, so a CI log shows the wait is alive."""


class OpsError(Exception):
    """A failure to report in one message; `exit_code` 1 (the stack) or 2 (the request)."""

    exit_code = 1


class UsageError(OpsError):
    exit_code = 2


@dataclass(frozen=True)
class Aws:
    ec2: Any
    ssm: Any
    region: str


@dataclass
class Progress:
    """Reports a wait: each new problem, and a "still waiting" line now and then."""

    clock: Clock
    waits: Waits
    say: Say
    started: float

    def elapsed(self) -> str:
        seconds = int(self.clock.now() - self.started)
        return f"{seconds // 60}m{seconds % 60:02d}s"

    def wait_for(self, what: str, check: Callable[[], str | None], deadline: float) -> None:
        """Until `check` finds nothing wrong; WaitTimeoutError past the deadline."""
        shown, shown_at = None, self.clock.now()
        while (problem := check()) is not None:
            now = self.clock.now()
            if problem != shown or now - shown_at >= self.waits.progress_every:
                self.say(f"[{self.elapsed()}] waiting for {what}: {problem}")
                shown, shown_at = problem, now
            if now + self.waits.interval > deadline:
                raise WaitTimeoutError(what, problem)
            self.clock.sleep(self.waits.interval)
        self.say(f"[{self.elapsed()}] {what}: ok")


class WaitTimeoutError(OpsError):
    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"still waiting for {what}: {problem}")
        self.what = what


def _hosts(aws: Aws, stack: str) -> list[Host]:
    hosts = find_hosts(aws.ec2, stack)
    if not hosts:
        raise UsageError(
            f"no instances tagged project=metis-llm, stack={stack} in {aws.region}: check the "
            "stack name and the region (--region, or AWS_REGION)"
        )
    return hosts


def _record(aws: Aws, stack: str) -> dict[str, Any]:
    try:
        return read_record(aws.ssm, stack)
    except NoRecordError as error:
        raise UsageError(f"{error} (region {aws.region})") from None


def _all_in(aws: Aws, hosts: list[Host], wanted: str) -> Callable[[], str | None]:
    def check() -> str | None:
        now = states(aws.ec2, hosts)
        behind = [f"{h.name} {now[h.instance_id]}" for h in hosts if now[h.instance_id] != wanted]
        return ", ".join(behind) or None

    return check


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


def wake(
    aws: Aws,
    stack: str,
    key: str,
    waits: Waits,
    clock: Clock,
    say: Say,
    metis_config: Path | None = None,
) -> None:
    """Start the stopped hosts, then wait until the router answers, lists both models, embeds
    and answers a review-shaped call with a valid function call; then write the stack's
    metis.yaml (the stack output metis_config) where asked."""
    record = _record(aws, stack)
    hosts = _hosts(aws, stack)
    progress = Progress(clock, waits, say, clock.now())
    deadline = progress.started + waits.timeout
    for host in hosts:
        say(f"{host.name} ({host.instance_id}, {host.instance_type}): {host.state}")
    if any(host.state == "stopping" for host in hosts):
        stopping = [host for host in hosts if host.state == "stopping"]
        progress.wait_for("the stopping hosts to stop", _all_in(aws, stopping, "stopped"), deadline)
    stopped = [host for host in hosts if host.state in ("stopped", "stopping")]
    if stopped:
        _start(aws, stopped)
        say(f"starting {', '.join(host.name for host in stopped)}")
    request = min(waits.request_timeout, waits.timeout)
    try:
        progress.wait_for("every host to run", _all_in(aws, hosts, "running"), deadline)
        progress.wait_for("the router", lambda: router.liveliness(record, request), deadline)
        progress.wait_for("both models", lambda: router.models(record, key, request), deadline)
        progress.wait_for(
            "the embedding model", lambda: router.embedding(record, key, request), deadline
        )
        progress.wait_for("a review", _review_check(record, key, request), deadline)
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
        metis_config.write_text(record["metis_config"])
        say(f"wrote {metis_config} (metis --config {metis_config}; the key in VLLM_API_KEY)")


def _review_check(record: dict[str, Any], key: str, timeout: float) -> Callable[[], str | None]:
    def check() -> str | None:
        problem, transient = router.review(record, key, timeout)
        if problem is not None and not transient:
            raise OpsError(f"the router answers, but not with reviews Metis can use: {problem}")
        return problem

    return check


def sleep(aws: Aws, stack: str, waits: Waits, clock: Clock, say: Say) -> None:
    """Stop the hosts that run, and wait until every host is stopped."""
    hosts = _hosts(aws, stack)
    running = [host for host in hosts if host.state in ("pending", "running")]
    if running:
        aws.ec2.stop_instances(InstanceIds=[host.instance_id for host in running])
        say(f"stopping {', '.join(host.name for host in running)}")
    progress = Progress(clock, waits, say, clock.now())
    try:
        progress.wait_for(
            "every host to stop", _all_in(aws, hosts, "stopped"), progress.started + waits.timeout
        )
    except WaitTimeoutError as error:
        minutes = int(waits.timeout // 60)
        raise OpsError(f"{stack} did not stop within {minutes} minutes, {error}") from None
    say(f"{stack} is asleep: no instance bills for compute; disks and Elastic IPs still do")


def status(aws: Aws, stack: str, say: Say) -> None:
    """Each host's state and what it costs an hour now; what the whole stack costs running."""
    hosts = _hosts(aws, stack)
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

"""Waiting for the stack with progress a CI log shows: time is injected (a `Clock`), so the
tests run every wait on a virtual clock."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ops.fleet import Host, states
from ops.stack import Aws, OpsError

Say = Callable[[str], None]
Check = Callable[[], str | None]
"""None once what is waited for holds; otherwise what is still wrong."""


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
    (expected 3-8 minutes after a stop, README: Fast warm start)."""
    interval: float = 10
    request_timeout: float = 300
    """One HTTP request or review probe: a first generation on a cold GPU can take a while."""
    progress_every: float = 60
    """A "still waiting" line at least this often, so a CI log shows the wait is alive."""


class WaitTimeoutError(OpsError):
    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"still waiting for {what}: {problem}")
        self.what = what


@dataclass
class Progress:
    """Reports a wait: each new problem, and a "still waiting" line now and then."""

    clock: Clock
    waits: Waits
    say: Say
    started: float

    @property
    def deadline(self) -> float:
        return self.started + self.waits.timeout

    def elapsed(self) -> str:
        seconds = int(self.clock.now() - self.started)
        return f"{seconds // 60}m{seconds % 60:02d}s"

    def wait_for(self, what: str, check: Check) -> None:
        """Until `check` finds nothing wrong; WaitTimeoutError past the deadline."""
        shown, shown_at = None, self.clock.now()
        while (problem := check()) is not None:
            now = self.clock.now()
            if problem != shown or now - shown_at >= self.waits.progress_every:
                self.say(f"[{self.elapsed()}] waiting for {what}: {problem}")
                shown, shown_at = problem, now
            if now + self.waits.interval > self.deadline:
                raise WaitTimeoutError(what, problem)
            self.clock.sleep(self.waits.interval)
        self.say(f"[{self.elapsed()}] {what}: ok")


def all_in(aws: Aws, hosts: Sequence[Host], wanted: str) -> Check:
    """Every host's instance in EC2 state `wanted`; otherwise the hosts behind and theirs."""

    def check() -> str | None:
        now = states(aws.ec2, hosts)
        behind = [f"{h.name} {now[h.instance_id]}" for h in hosts if now[h.instance_id] != wanted]
        return ", ".join(behind) or None

    return check


DEFAULT_WAITS = Waits()


def add_wait_arguments(parser: argparse.ArgumentParser) -> None:
    """--timeout and --interval, for a command that waits."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_WAITS.timeout,
        help=f"seconds it waits in all (default {DEFAULT_WAITS.timeout:g})",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_WAITS.interval,
        help=f"seconds between checks (default {DEFAULT_WAITS.interval:g})",
    )


def waits_of(args: argparse.Namespace) -> Waits:
    return Waits(timeout=args.timeout, interval=args.interval)

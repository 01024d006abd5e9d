"""The world the test described, as the fakes read and change it: the virtual clock, each
host's files, boot record and events (tests/support/boot/world.py writes them)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# re, signal and subprocess are imported where needed: every fake is a new process, and a
# scenario runs hundreds of them.

EPOCH = 1_800_000_000
"""What `date +%s` prints at virtual time 0 (the instance's launch)."""
TIMEOUT_EXIT = 124


def world_dir() -> Path:
    return Path(os.environ["FAKE_WORLD"])


def world() -> dict:
    return json.loads((world_dir() / "world.json").read_text())


def now() -> float:
    return float((world_dir() / "clock").read_text())


def set_clock(moment: float) -> None:
    (world_dir() / "clock").write_text(repr(moment))
    show_files_as_of(moment)


def show_files_as_of(moment: float) -> None:
    """Each host's `root` shows its files as at launch until its bootstrap finished, and
    as the bootstrap left them from then on (the bootstrap itself writes to `root.after`)."""
    hosts = world_dir() / "hosts"
    for host in hosts.iterdir() if hosts.exists() else ():
        boot = host / "boot.json"
        done = boot.exists() and moment >= json.loads(boot.read_text())["done_at"]
        target = "root.after" if done else "root.before"
        link = host / "root"
        if os.readlink(link) != target:
            temporary = host / "root.switching"
            temporary.symlink_to(target)
            os.replace(temporary, link)


def advance(seconds: float) -> None:
    set_clock(now() + seconds)


def host_dir(host_id: str) -> Path:
    return world_dir() / "hosts" / host_id


def this_host() -> tuple[str, dict]:
    host_id = os.environ["FAKE_HOST"]
    return host_id, world()["hosts"][host_id]


def events(host_id: str) -> list[dict]:
    path = host_dir(host_id) / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def record(host_id: str, kind: str, **data: object) -> None:
    with (host_dir(host_id) / "events.jsonl").open("a") as log:
        log.write(json.dumps({"t": now(), "kind": kind, **data}) + "\n")


def happened(host_id: str, kind: str, by: float | None = None, **match: object) -> float | None:
    """When an event first happened (by a given moment), or None."""
    for event in events(host_id):
        matches = event["kind"] == kind and all(event.get(k) == v for k, v in match.items())
        if matches and (by is None or event["t"] <= by):
            return event["t"]
    return None


def boot_record(host_id: str) -> dict | None:
    path = host_dir(host_id) / "boot.json"
    return json.loads(path.read_text()) if path.exists() else None


def wait_until(moment: float) -> int | None:
    """Let virtual time pass until `moment`, unless a `timeout` or the SSH session ends
    first: then stop there and exit 124 (timeout), or kill the session (dropped)."""
    limits = {
        "timeout": os.environ.get("FAKE_DEADLINE"),
        "session": os.environ.get("FAKE_SESSION_ENDS"),
    }
    ends = {why: float(at) for why, at in limits.items() if at is not None}
    first = min(ends.items(), key=lambda item: item[1], default=None)
    if first is None or moment <= first[1]:
        set_clock(max(now(), moment))
        return None
    set_clock(max(now(), first[1]))
    if first[0] == "session":
        import signal

        os.killpg(os.getpgrp(), signal.SIGKILL)
    return TIMEOUT_EXIT


def say(text: str, stream=sys.stdout) -> None:
    print(text, file=stream, flush=True)


def error(text: str) -> None:
    say(text, sys.stderr)

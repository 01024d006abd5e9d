"""apt-get and its locks, as at a first boot."""

from __future__ import annotations

import math
import os
from pathlib import Path

from .paths import link_program
from .state import advance, error, happened, host_dir, now, record, say, set_clock, this_host

APT_FAILED = 100


def apt_lock_holder(host: dict, lock: str) -> dict | None:
    held = host["apt_locks"].get(lock)
    return held if held and now() < held["until"] else None


def apt_lock_errors(path: str, holder: dict, then: str) -> None:
    """apt 2.4 (apt-pkg/contrib/fileutl.cc GetLock): the lock's holder by pid and name,
    the notice, then the caller's own error."""
    error(f"E: Could not get lock {path}. It is held by process {holder['pid']} ({holder['name']})")
    error("N: Be aware that removing the lock file is not a solution and may break your system.")
    error(f"E: {then}")


def fake_apt_get(args: list[str]) -> int:
    """apt-get 2.4.13 (Ubuntu 22.04). `update` takes /var/lib/apt/lists/lock and never
    waits for it (apt-pkg/acquire.cc, pkgAcquire::GetLock). `install` takes the dpkg
    frontend lock and waits for it only up to DPkg::Lock::Timeout seconds, 0 by default
    (apt-pkg/deb/debsystem.cc, GetLockMaybeWait). Package lists start empty on a cloud
    image, so install before update cannot find the package."""
    host_id, host = this_host()
    options = {}
    words = []
    index = 0
    while index < len(args):
        if args[index] == "-o":
            key, _, value = args[index + 1].partition("=")
            options[key] = value
            index += 2
            continue
        if not args[index].startswith("-"):
            words.append(args[index])
        index += 1
    if words[:1] == ["update"]:
        holder = apt_lock_holder(host, "lists")
        if holder:
            apt_lock_errors(
                "/var/lib/apt/lists/lock", holder, "Unable to lock directory /var/lib/apt/lists/"
            )
            return APT_FAILED
        advance(15)
        record(host_id, "apt_lists_updated")
        say("Reading package lists...")
        return 0
    if words[:1] == ["install"]:
        frontend = "/var/lib/dpkg/lock-frontend"
        holder = apt_lock_holder(host, "dpkg")
        if holder:
            patience = float(options.get("DPkg::Lock::Timeout", "0"))
            held_by = f"It is held by process {holder['pid']} ({holder['name']})"
            if holder["until"] - now() > patience:
                advance(patience)
                apt_lock_errors(
                    frontend,
                    holder,
                    f"Unable to acquire the dpkg frontend lock ({frontend}), "
                    "is another process using it?",
                )
                return APT_FAILED
            say(f"Waiting for cache lock: Could not get lock {frontend}. {held_by}...")
            set_clock(math.ceil(holder["until"]))
        if happened(host_id, "apt_lists_updated") is None:
            for package in words[1:]:
                error(f"E: Unable to locate package {package}")
            return APT_FAILED
        advance(40)
        if "docker.io" in words:
            (Path(os.environ["FAKE_ROOT"]) / "etc" / "docker").mkdir(parents=True, exist_ok=True)
            link_program(host_dir(host_id) / "bin", "docker")
            record(host_id, "docker_installed")
            record(host_id, "group_created", group="docker")
            say("Setting up docker.io (27.5.1-0ubuntu3~22.04.2) ...")
        return 0
    error(f"fake apt-get: unsupported {args}")
    return APT_FAILED

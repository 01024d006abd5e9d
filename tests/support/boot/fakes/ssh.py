"""The deployer's side: the OpenSSH client (`sleep` and `date` there are bash scripts: see
tests/support/boot/world.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .paths import translate, untranslate
from .state import (
    advance,
    error,
    events,
    happened,
    host_dir,
    now,
    show_files_as_of,
    world,
    world_dir,
)

# re, signal and subprocess are imported where needed: every fake is a new process, and a
# scenario runs hundreds of them.

SSH_FAILED = 255


def parse_ssh(args: list[str]) -> tuple[dict[str, str], str, list[str]]:
    """OpenSSH's command line as this project uses it: `-o Key=Value`, `-T`, `--`, the
    destination, then the remote command. Option names are case-insensitive (ssh_config(5))."""
    options: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-o":
            key, _, value = args[index + 1].partition("=")
            options.setdefault(key.lower(), value)
            index += 2
        elif arg.startswith("-o"):
            key, _, value = arg[2:].partition("=")
            options.setdefault(key.lower(), value)
            index += 1
        elif arg in ("-T", "-q"):
            index += 1
        elif arg == "--":
            index += 1
            break
        else:
            break
    return options, args[index], args[index + 1 :]


def host_key(host_id: str) -> str:
    """Each instance generates its own host key at first boot (cloud-init cc_ssh)."""
    return "AAAAC3NzaC1lZDI1NTE5AAAAI" + host_id.encode().hex()


def check_host_key(options: dict[str, str], host: str, host_id: str) -> int | None:
    """OpenSSH 8.9-9.x, sshconnect.c check_host_key: the known-hosts entry is looked up
    under HostKeyAlias, else the host name. StrictHostKeyChecking=accept-new adds unknown
    keys and refuses changed ones; a changed key is refused with the warning below."""
    name = options.get("hostkeyalias") or host
    path = Path(os.path.expanduser(options.get("userknownhostsfile", "~/.ssh/known_hosts")))
    key = host_key(host_id)
    lines = path.read_text().splitlines() if path.exists() else []
    for number, line in enumerate(lines, start=1):
        names, _, known = line.partition(" ssh-ed25519 ")
        if name in names.split(","):
            if known == key:
                return None
            error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
            error("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @")
            error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
            error("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!")
            error(f"Offending ED25519 key in {path}:{number}")
            error(f"Host key for {name} has changed and you have requested strict checking.")
            error("Host key verification failed.")
            return SSH_FAILED
    if options.get("stricthostkeychecking", "ask") not in ("accept-new", "no", "off"):
        error("Host key verification failed.")
        return SSH_FAILED
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as known_hosts:
        known_hosts.write(f"{name} ssh-ed25519 {key}\n")
    error(f"Warning: Permanently added '{name}' (ED25519) to the list of known hosts.")
    return None


def ssm_online_at(host_id: str, host: dict) -> float:
    """amazon-ssm-agent 3.3: an agent whose instance role worked registers within seconds of
    starting; one refused credentials sleeps 25-30 minutes (credentialrefresher) unless it
    is restarted, which starts a fresh attempt."""
    if not host["ssm_backs_off"]:
        return host["ssm_registers_at"]
    restarted = happened(host_id, "ssm_agent_restarted")
    online = host["ssm_backoff_ends_at"]
    return min(online, restarted + 5) if restarted is not None else online


def session_groups(host_id: str, host: dict, user: str, at: float) -> list[str]:
    """A login's supplementary groups are read when the session starts (login/sshd
    initgroups): a group added later reaches only later sessions."""
    added = [e["group"] for e in events(host_id) if e["kind"] == "group_added" and e["t"] <= at]
    return [*host["groups"].get(user, []), *added]


def fake_ssh(args: list[str]) -> int:
    """OpenSSH client (8.9 on Ubuntu 22.04): connect, check the host key, run the command
    in a login session on the host and return its exit status; 255 when the connection
    fails or drops, with ssh's own messages. A ProxyCommand `aws ssm start-session` goes
    through the host's SSM agent (AWS CLI v2 + session-manager-plugin: an unregistered
    target fails with TargetNotConnected and ssh reports the closed connection)."""
    options, destination, command = parse_ssh(args)
    user, _, target = destination.rpartition("@")
    show_files_as_of(now())  # the deployer's `sleep` moved the clock without looking
    everything = world()
    hosts = everything["hosts"]
    via_ssm = "aws ssm start-session" in options.get("proxycommand", "")
    if via_ssm:
        advance(2)
        host_id = target if target in hosts else None
        if host_id is None or now() < ssm_online_at(host_id, hosts[host_id]):
            error(
                "\nAn error occurred (TargetNotConnected) when calling the StartSession "
                f"operation: {target} is not connected."
            )
            error("kex_exchange_identification: Connection closed by remote host")
            error("Connection closed by UNKNOWN port 65535")
            return SSH_FAILED
    else:
        host_id = everything["addresses"].get(target)
        if host_id is None or not hosts[host_id]["reachable"]:
            advance(float(options.get("connecttimeout", "120")))
            error(f"ssh: connect to host {target} port 22: Connection timed out")
            return SSH_FAILED
        if now() < hosts[host_id]["sshd_from"]:
            advance(1)
            error(f"ssh: connect to host {target} port 22: Connection refused")
            return SSH_FAILED
    host = hosts[host_id]
    refused = check_host_key(options, target, host_id)
    if refused is not None:
        return refused
    advance(1)
    started = now()
    root = host_dir(host_id) / "root"
    env = {
        "PATH": f"{host_dir(host_id) / 'bin'}:{world_dir() / 'tools'}",
        "HOME": str(root / "home" / user),
        "LANG": "C.UTF-8",
        "FAKE_WORLD": str(world_dir()),
        "FAKE_HOST": host_id,
        "FAKE_ROOT": str(root),
        "FAKE_USER": user,
        "FAKE_GROUPS": ",".join(session_groups(host_id, host, user, started)),
    }
    restart = happened(host_id, "ssm_agent_restarted") if via_ssm else None
    if restart is not None and restart > started:
        env["FAKE_SESSION_ENDS"] = repr(restart)
    import signal
    import subprocess

    # ssh joins its arguments with spaces into the command the remote shell runs.
    remote = translate(" ".join(command) or "true", str(root), everything["host_dirs"])
    result = subprocess.run(
        ["bash", "-c", remote],
        cwd=root / "home" / user,
        env=env,
        start_new_session=True,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(untranslate(result.stdout, host_dir(host_id)))
    sys.stderr.write(untranslate(result.stderr, host_dir(host_id)))
    if result.returncode == -signal.SIGKILL:
        error(f"Connection to {target} closed by remote host.")
        return SSH_FAILED
    return result.returncode

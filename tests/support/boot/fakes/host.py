"""The host's other programs: coreutils' sleep and timeout, cloud-init, the NVIDIA tools,
usermod, systemctl, and the real Python."""

from __future__ import annotations

import math
import os
import sys

from .state import (
    advance,
    boot_record,
    error,
    happened,
    now,
    record,
    say,
    this_host,
    wait_until,
)

# re, signal and subprocess are imported where needed: every fake is a new process, and a
# scenario runs hundreds of them.


def fake_sleep(args: list[str]) -> int:
    """coreutils sleep: `sleep N` waits N seconds, here on the virtual clock (and stops
    with its session or its `timeout`)."""
    return wait_until(now() + float(args[0])) or 0


def fake_timeout(args: list[str]) -> int:
    """coreutils timeout: `timeout SECONDS COMMAND...` runs COMMAND and stops it after
    SECONDS, exiting 124; 0 disables the limit (so callers never pass 0)."""
    import subprocess

    seconds, command = float(args[0]), args[1:]
    env = dict(os.environ)
    if seconds > 0:
        deadline = now() + seconds
        if "FAKE_DEADLINE" in env:
            deadline = min(deadline, float(env["FAKE_DEADLINE"]))
        env["FAKE_DEADLINE"] = repr(deadline)
    return subprocess.call(command, env=env)


def fake_cloud_init(args: list[str]) -> int:
    """cloud-init 23.4+ (cloudinit/cmd/status.py, handle_status_args): `status --wait`
    polls until boot finished, then prints `status: done` or `status: error` and exits
    0 (done), 1 (error) or 2 (done with recoverable errors: "degraded done")."""
    host_id, _ = this_host()
    if args[:1] != ["status"]:
        error(f"fake cloud-init: unsupported {args}")
        return 2
    record_ = boot_record(host_id)
    done_at = record_["done_at"] if record_ else math.inf
    if "--wait" in args:
        stopped = wait_until(done_at)
        if stopped is not None:
            return stopped
    if now() < done_at:
        say("status: running")
        return 0
    say("\nstatus: " + ("error" if record_["cloud_init_exit"] == 1 else "done"))
    return record_["cloud_init_exit"]


def fake_nvidia_smi(args: list[str]) -> int:
    """nvidia-smi (driver 550+): `-L` lists the GPUs; the bootstrap's query prints index,
    name and total memory as the driver reports it (e.g. 23034 MiB on an L4)."""
    _, host = this_host()
    gpus = host["gpus"]
    if args == ["-L"]:
        for index, (name, _) in enumerate(gpus):
            say(f"GPU {index}: {name} (UUID: GPU-{index:08d}-0000-0000-0000-000000000000)")
        return 0
    if args and args[0].startswith("--query-gpu="):
        for index, (name, mib) in enumerate(gpus):
            say(f"{index}, {name}, {mib} MiB")
        return 0
    error(f"fake nvidia-smi: unsupported {args}")
    return 1


def fake_nvidia_ctk(args: list[str]) -> int:
    """NVIDIA Container Toolkit CLI, as on the Deep Learning Base GPU AMI."""
    if args == ["--version"]:
        say("NVIDIA Container Toolkit CLI version 1.17.4")
        return 0
    return 1


def fake_usermod(args: list[str]) -> int:
    """shadow 4.8 usermod: `-aG GROUP USER` adds a supplementary group; the group must
    exist (exit 6 otherwise). Running sessions keep their groups (see session_groups)."""
    host_id, host = this_host()
    if args[:1] != ["-aG"] or len(args) != 3:
        error(f"fake usermod: unsupported {args}")
        return 2
    group, user = args[1], args[2]
    exists = group in host["system_groups"] or happened(host_id, "group_created", group=group)
    if not exists:
        error(f"usermod: group '{group}' does not exist")
        return 6
    record(host_id, "group_added", group=group, user=user)
    return 0


def fake_systemctl(args: list[str]) -> int:
    """systemd 249 systemctl: `restart UNIT`, `enable --now UNIT`, `is-enabled --quiet
    UNIT` (exit 0 when enabled, non-zero with a message when the unit does not exist)."""
    host_id, host = this_host()
    words = [arg for arg in args if not arg.startswith("--")]
    verb, units = words[0], [u if "." in u else f"{u}.service" for u in words[1:]]
    known = {host["ssm_unit"]}
    if host["role"] == "gpu" or happened(host_id, "docker_installed") is not None:
        known.add("docker.service")
    for unit in units:
        if unit not in known:
            if verb == "is-enabled":
                error(f"Failed to get unit file state for {unit}: No such file or directory")
                return 1
            error(f"Failed to {verb} {unit}: Unit {unit} not found.")
            return 5
        if verb == "restart":
            advance(3)
            if unit == host["ssm_unit"]:
                record(host_id, "ssm_agent_restarted")
    return 0


def fake_python3(args: list[str]) -> int:
    """The real Python 3 (the bootstrap merges daemon.json with it)."""
    os.execv(sys.executable, [sys.executable, *args])

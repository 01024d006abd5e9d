"""Scripted stand-ins for the programs a first boot and `pulumi up` meet, on a virtual clock.

Each fake is an executable on PATH (`python3 -I -S`, standard library only) that reads the
world the test described (tests/support/boot/world.py) and plays the behaviour of the real
program named in its docstring, with that program's messages and exit codes. Time is a
number in a file: `sleep`, a wait for cloud-init or for apt's lock advance it, so a
scenario spanning half an hour runs in a second.

Deployer side: `ssh` (and `sleep`, `date`, which are bash: world.py). Host side (run
inside an SSH session or as the bootstrap): `cloud-init`, `docker`, `nvidia-smi`,
`nvidia-ctk`, `apt-get`, `usermod`, `systemctl`, `sleep`, `timeout`, `python3` (the real
interpreter).

A session or a timeout that ends while a fake waits is honoured: the fake stops at that
moment, exits like `timeout` (124), or, when the SSH session drops, kills the session's
process group as sshd does when the connection goes away.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

# re, signal and subprocess are imported where needed: every fake is a new process, and a
# scenario runs hundreds of them.

EPOCH = 1_800_000_000
"""What `date +%s` prints at virtual time 0 (the instance's launch)."""
TIMEOUT_EXIT = 124
SSH_FAILED = 255
APT_FAILED = 100


# --- the world -------------------------------------------------------------------------


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


# --- paths: the host's files live under its root directory ---------------------------


def translate(text: str, root: str, host_dirs: list[str]) -> str:
    """Move the host's absolute paths under `root`; nothing else changes."""
    import re

    for directory in sorted(host_dirs, key=len, reverse=True):
        text = re.sub(rf"(?<![\w./-]){re.escape(directory)}(?![\w.-])", root + directory, text)
    return text


def untranslate(text: str, host: Path) -> str:
    """What a program on the host would have printed: its paths without the host's root."""
    for root in ("root.after", "root.before", "root"):
        text = text.replace(f"{host / root}", "")
    return text


def untranslated(text: str) -> list[str]:
    """Absolute system paths left in a translated text (a host path the harness missed)."""
    import re

    return re.findall(r"(?<![\w./-])/(?:etc|var|opt|srv|home|root)/[\w./-]*", text)


# --- deployer side (`sleep` and `date` there are bash scripts: see world.py) -------------


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


# --- host side ----------------------------------------------------------------------


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


def docker_running(host_id: str, host: dict) -> bool:
    if host["role"] == "gpu":
        return True
    return happened(host_id, "docker_installed", by=now()) is not None


def fake_docker(args: list[str]) -> int:
    """Docker CLI 27 against the host's daemon: `--version`, `info --format`, `image prune`.
    A caller outside the docker group (and not root) gets the daemon socket's permission
    error (docker/cli, client.go); a stopped daemon, the "Cannot connect" error."""
    host_id, host = this_host()
    if host["role"] == "cpu" and happened(host_id, "docker_installed", by=now()) is None:
        error("bash: line 1: docker: command not found")
        return 127
    if args == ["--version"]:
        say("Docker version 27.5.1, build 9f9e405")
        return 0
    allowed = os.environ.get("FAKE_USER") == "root" or "docker" in os.environ.get(
        "FAKE_GROUPS", ""
    ).split(",")
    if not docker_running(host_id, host):
        error(
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?"
        )
        return 1
    if not allowed:
        error(
            "permission denied while trying to connect to the Docker daemon socket at "
            'unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/info": '
            "dial unix /var/run/docker.sock: connect: permission denied"
        )
        return 1
    if args[:1] == ["info"]:
        say("docker 27.5.1")
        return 0
    if args[:2] == ["image", "prune"] and {"--all", "--force"} <= set(args[2:]):
        images_file = host_dir(host_id) / "images.json"
        images = json.loads(images_file.read_text()) if images_file.exists() else []
        kept = [image for image in images if image["used"]]
        gone = [image for image in images if not image["used"]]
        images_file.write_text(json.dumps(kept))
        if gone:
            say("Deleted Images:")
            for image in gone:
                say(f"untagged: {image['name']}")
        say(f"\nTotal reclaimed space: {sum(image['gb'] for image in gone)}GB")
        return 0
    error(f"fake docker: unsupported {args}")
    return 1


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


def link_program(bin_dir: Path, name: str) -> None:
    """Put a fake program on a host's PATH (as a package install would)."""
    (bin_dir / name).symlink_to(bin_dir / ".fake")


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


FAKES = {
    "ssh": fake_ssh,
    "sleep": fake_sleep,
    "timeout": fake_timeout,
    "cloud-init": fake_cloud_init,
    "docker": fake_docker,
    "nvidia-smi": fake_nvidia_smi,
    "nvidia-ctk": fake_nvidia_ctk,
    "apt-get": fake_apt_get,
    "usermod": fake_usermod,
    "systemctl": fake_systemctl,
    "python3": fake_python3,
}


def main() -> int:
    return FAKES[Path(sys.argv[0]).name](sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

"""How `pulumi up` reaches a host: SSH, direct or through AWS Session Manager.

The readiness check, the Docker provider and the image prune all use `ssh_argv`, so a host
that passed its readiness check is reached by the others the same way. The known-hosts
entry is keyed to the instance (`HostKeyAlias`): a replacement answering at the same
Elastic IP is a new host to SSH, not a changed key it refuses forever.

Facts and sources behind the timings: docs/reference/deploy-timeline.md.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from config.settings import AccessConfig
from renderers.cloud_init import BOOTSTRAP_DONE, BOOTSTRAP_LOG, HostRole

SSH_USER = "ubuntu"
KNOWN_HOSTS_FILE = "~/.ssh/metis-llm_known_hosts"
"""Host keys of this project's machines, apart from the user's own known_hosts."""
CONNECT_TIMEOUT_SECONDS = 20
RETRY_INTERVAL_SECONDS = 10
READINESS_BUDGET_SECONDS = 30 * 60
"""From the instance running to Docker answering: boot, SSM registration, and a bootstrap
that may wait up to 20 minutes for apt's locks on a plain Ubuntu host."""
BOOTSTRAP_LOG_LINES = 25
"""How much of the bootstrap log a failed readiness check shows."""
SSH_CONNECTION_LOST = 255
"""ssh's own exit status when the connection fails or drops (ssh(1), EXIT STATUS)."""
BOOTSTRAP_FAILED = 3
"""The remote wait's verdict when the bootstrap did not complete."""


def ssh_options(access: AccessConfig, region: str, instance_id: str) -> list[str]:
    options = [
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=accept-new",
        "-o", f"UserKnownHostsFile={KNOWN_HOSTS_FILE}",
        "-o", f"HostKeyAlias={instance_id}",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT_SECONDS}",
        "-o", "ServerAliveInterval=30",
    ]  # fmt: skip
    if access.ssh_identity_file:
        options += ["-o", "IdentitiesOnly=yes", "-o", f"IdentityFile={access.ssh_identity_file}"]
    if access.mode == "ssm":
        proxy = (
            "aws ssm start-session --target %h --document-name AWS-StartSSHSession "
            f"--parameters portNumber=%p --region {region}"
        )
        options += ["-o", f"ProxyCommand={proxy}"]
    return options


def ssh_destination(access: AccessConfig, instance_id: str, public_ip: str) -> str:
    """In ssm mode the instance id is the SSH host name the proxy command resolves."""
    return f"{SSH_USER}@{instance_id if access.mode == 'ssm' else public_ip}"


def ssh_argv(access: AccessConfig, region: str, instance_id: str, public_ip: str) -> list[str]:
    """`ssh <options> <destination>`: append a remote command to run one on the host."""
    destination = ssh_destination(access, instance_id, public_ip)
    return ["ssh", *ssh_options(access, region, instance_id), destination]


def docker_host(destination: str) -> str:
    return f"ssh://{destination}"


def bootstrap_wait_command() -> str:
    """Run on the host with `budget` (seconds) set: wait for cloud-init, then judge the
    bootstrap by its own marker. cloud-init exits 0 (done), 1 (error) or 2 (done with
    recoverable warnings, since 23.4); only the marker says the bootstrap completed."""
    return f"""\
[ "$budget" -gt 0 ] || budget=1
code=0
timeout "$budget" cloud-init status --wait >/dev/null || code=$?
if [ -f {BOOTSTRAP_DONE} ]; then
  if [ "$code" -eq 1 ]; then
    echo "note: cloud-init reported errors outside the bootstrap (cloud-init status --long)" >&2
  fi
  exit 0
fi
if [ "$code" -eq 124 ]; then
  echo "the bootstrap was still running when the readiness budget ran out" >&2
else
  echo "the bootstrap failed: cloud-init finished (status exit $code) without {BOOTSTRAP_DONE}" >&2
fi
echo "last lines of {BOOTSTRAP_LOG}:" >&2
tail -n {BOOTSTRAP_LOG_LINES} {BOOTSTRAP_LOG} >&2
exit {BOOTSTRAP_FAILED}"""


def host_checks(role: HostRole) -> str:
    """Run on the host: Docker answers (and on GPU hosts the GPUs); any failure fails."""
    checks = ["docker info --format 'docker {{.ServerVersion}}'"]
    if role == "gpu":
        checks.append("nvidia-smi -L")
    return " && ".join(checks)


def readiness_script(argv: Sequence[str], role: HostRole) -> str:
    """A local bash script: wait until the host answers over SSH, until its bootstrap
    completed, then check Docker (and the GPUs) in a new session. What it prints (Docker's
    version, the GPUs) is what the Docker provider's host waits on.

    The checks run in a session opened after the bootstrap: a login keeps the groups it
    started with, and sshd accepts logins before the bootstrap adds ubuntu to the docker
    group. Every failure names its cause: the last SSH error, or the bootstrap log's tail.
    """
    destination = shlex.quote(argv[-1])
    minutes = READINESS_BUDGET_SECONDS // 60
    what = "Docker or the GPUs" if role == "gpu" else "Docker"
    return f"""\
set -uo pipefail
on_host() {{ {shlex.join(argv)} "$@"; }}
deadline=$(( $(date +%s) + {READINESS_BUDGET_SECONDS} ))
left() {{ echo $(( deadline - $(date +%s) )); }}

# 1. The host answers over SSH (sshd is up; in ssm mode, the SSM agent registered).
until error=$(on_host true 2>&1 >/dev/null); do
  if [ "$(left)" -le 0 ]; then
    printf '%s did not answer over SSH within {minutes} minutes. Last SSH error:\\n%s\\n' \\
      {destination} "$error" >&2
    exit 1
  fi
  sleep {RETRY_INTERVAL_SECONDS}
done

# 2. The bootstrap completed. A session may drop meanwhile (the bootstrap restarts the
#    SSM agent): then reconnect and wait again. The wait expands its variables on the host.
# shellcheck disable=SC2016
wait_for_bootstrap={shlex.quote(bootstrap_wait_command())}
while true; do
  on_host "budget=$(left); $wait_for_bootstrap"
  status=$?
  if [ "$status" -ne {SSH_CONNECTION_LOST} ]; then break; fi
  if [ "$(left)" -le 0 ]; then
    echo {destination}": lost the SSH connection while waiting for the bootstrap" >&2
    exit 1
  fi
  sleep {RETRY_INTERVAL_SECONDS}
done
if [ "$status" -ne 0 ]; then exit "$status"; fi

# 3. A new session, opened after the bootstrap: it has the groups the Docker provider's
#    sessions will have.
if ! on_host {shlex.quote(host_checks(role))}; then
  echo {destination}": the bootstrap completed, but {what} did not answer (above)" >&2
  exit 1
fi
"""


def prune_images_script(argv: Sequence[str]) -> str:
    """Remove the images no container uses (the ones an update left behind): each vLLM
    image takes 25-35 GB, and the provider keeps them (`keep_locally`)."""
    return f"{shlex.join([*argv, 'docker', 'image', 'prune', '--all', '--force'])}\n"

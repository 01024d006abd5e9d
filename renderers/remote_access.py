"""How `pulumi up` reaches a host's Docker: SSH, direct or through AWS Session Manager.

The Docker provider and the readiness check use the same SSH options, so a host that
passed its readiness check is reachable by the provider the same way.
"""

from __future__ import annotations

import shlex

from config.settings import AccessConfig
from renderers.cloud_init import HostRole

SSH_USER = "ubuntu"
KNOWN_HOSTS_FILE = "~/.ssh/metis-llm_known_hosts"
"""Host keys of this project's machines, apart from the user's own known_hosts."""
CONNECT_ATTEMPTS = 60
CONNECT_INTERVAL_SECONDS = 10


def ssh_options(access: AccessConfig, region: str) -> list[str]:
    options = [
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=accept-new",
        "-o", f"UserKnownHostsFile={KNOWN_HOSTS_FILE}",
        "-o", "ConnectTimeout=20",
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


def ssh_command(access: AccessConfig, region: str, destination: str) -> list[str]:
    """`ssh` with the project's options to a host: append the remote command."""
    return ["ssh", *ssh_options(access, region), destination]


def docker_host(destination: str) -> str:
    return f"ssh://{destination}"


def readiness_checks(role: HostRole) -> str:
    """Run on the host: bootstrap finished, Docker answers, and on GPU hosts the GPUs."""
    checks = [
        "cloud-init status --wait >/dev/null || "
        "{ echo 'bootstrap failed: see /var/log/metis-llm-bootstrap.log' >&2; exit 1; }",
        "docker info --format 'docker {{.ServerVersion}}'",
    ]
    if role == "gpu":
        checks.append("nvidia-smi -L")
    return "; ".join(checks)


def readiness_script(access: AccessConfig, region: str, destination: str, role: HostRole) -> str:
    """A local shell script that waits until the host answers over SSH, then checks it.
    Its output (Docker version, GPUs) is what the Docker provider's host waits on."""
    ssh = shlex.join(ssh_command(access, region, destination))
    limit = CONNECT_ATTEMPTS * CONNECT_INTERVAL_SECONDS // 60
    return f"""\
set -euo pipefail
for attempt in $(seq 1 {CONNECT_ATTEMPTS}); do
  if {ssh} true 2>/dev/null; then break; fi
  if [ "$attempt" -eq {CONNECT_ATTEMPTS} ]; then
    echo "{destination} did not answer over SSH within {limit} minutes" >&2
    exit 1
  fi
  sleep {CONNECT_INTERVAL_SECONDS}
done
{ssh} {shlex.quote(readiness_checks(role))}
"""

"""First-boot scripts (EC2 user data) for the two kinds of host.

They carry no per-model setting: changing a model, an image or a vLLM flag must replace
containers, never machines.

`pulumi up` judges a bootstrap by its own completion marker, written last: cloud-init's
exit code alone cannot tell (since 23.4 it exits 2 for "done with recoverable warnings").
"""

from __future__ import annotations

from typing import Literal

from renderers.script_files import script_text
from renderers.vllm import HF_CACHE_HOST_DIR

HostRole = Literal["gpu", "cpu"]

BOOTSTRAP_LOG = "/var/log/metis-llm-bootstrap.log"
BOOTSTRAP_DONE = "/var/lib/metis-llm/bootstrap-done"
"""Written as the bootstrap's last step: present only when every step succeeded."""
DOCKER_DAEMON_CONFIG = "/etc/docker/daemon.json"
HOST_FILES = (BOOTSTRAP_LOG, BOOTSTRAP_DONE, DOCKER_DAEMON_CONFIG, HF_CACHE_HOST_DIR)
"""Every host path the bootstrap and the readiness check touch."""

LOG_MAX_SIZE = "50m"
LOG_MAX_FILES = 5

APT_LOCK_TIMEOUT_SECONDS = 600
"""How long `apt-get install` waits for the dpkg lock (unattended-upgrades at first boot)."""
APT_UPDATE_ATTEMPTS = 60
APT_RETRY_SECONDS = 10
"""`apt-get update` takes the package-lists lock without waiting: retried for 10 minutes."""


def render_cloud_init(role: HostRole) -> str:
    """The bootstrap script of a GPU host (checks the AMI's drivers and Docker) or of a
    CPU-only router host (installs Docker)."""
    parts = ["common-head.sh", f"{role}-host.sh", "common-tail.sh"]
    script = "".join(script_text(part) for part in parts)
    values = {
        "@ROLE@": role,
        "@BOOTSTRAP_LOG@": BOOTSTRAP_LOG,
        "@BOOTSTRAP_DONE@": BOOTSTRAP_DONE,
        "@DOCKER_DAEMON_CONFIG@": DOCKER_DAEMON_CONFIG,
        "@HF_CACHE_DIR@": HF_CACHE_HOST_DIR,
        "@LOG_MAX_SIZE@": LOG_MAX_SIZE,
        "@LOG_MAX_FILES@": str(LOG_MAX_FILES),
        "@APT_LOCK_TIMEOUT@": str(APT_LOCK_TIMEOUT_SECONDS),
        "@APT_UPDATE_ATTEMPTS@": str(APT_UPDATE_ATTEMPTS),
        "@APT_RETRY_SECONDS@": str(APT_RETRY_SECONDS),
    }
    for placeholder, value in values.items():
        script = script.replace(placeholder, value)
    return script

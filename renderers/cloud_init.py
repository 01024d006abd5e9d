"""First-boot scripts (EC2 user data) for the two kinds of host.

They carry no per-model setting: changing a model, an image or a vLLM flag must replace
containers, never machines.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

from renderers.vllm import HF_CACHE_HOST_DIR

HostRole = Literal["gpu", "cpu"]

LOG_MAX_SIZE = "50m"
LOG_MAX_FILES = 5


def _script(name: str) -> str:
    return resources.files("renderers").joinpath("scripts", name).read_text()


def render_cloud_init(role: HostRole) -> str:
    """The bootstrap script of a GPU host (checks the AMI's drivers and Docker) or of a
    CPU-only router host (installs Docker)."""
    parts = ["common-head.sh", f"{role}-host.sh", "common-tail.sh"]
    script = "".join(_script(part) for part in parts)
    values = {
        "@ROLE@": role,
        "@HF_CACHE_DIR@": HF_CACHE_HOST_DIR,
        "@LOG_MAX_SIZE@": LOG_MAX_SIZE,
        "@LOG_MAX_FILES@": str(LOG_MAX_FILES),
    }
    for placeholder, value in values.items():
        script = script.replace(placeholder, value)
    return script

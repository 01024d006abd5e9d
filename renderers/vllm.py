"""The vLLM server of a service: its container command and plain environment."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from config.catalog import ChatModelSpec, ToolCallingSpec
from config.images import POOLING_RUNNER_SINCE, TOOL_STRICT_LEVEL_SINCE, Version, VllmImageKind
from config.services import SERVICES, ServiceKey
from config.settings import Settings

VLLM_HEALTH_PATH = "/health"
"""Unauthenticated liveness/readiness route of vLLM."""

VLLM_API_KEY_ENV = "VLLM_API_KEY"
"""vLLM reads its API key (the backend key) from this variable: the key never appears on a
command line."""
HF_TOKEN_ENV = "HF_TOKEN"

HF_CACHE_HOST_DIR = "/var/lib/metis-llm/hf-cache"
"""Model weights on the host's disk, so replacing a container does not download again."""
HF_CACHE_CONTAINER_DIR = "/root/.cache/huggingface"


START_AFTER_SCRIPT = """\
while [ "$1" != -- ]; do
  until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \\
    "$1" 2>/dev/null; do sleep 5; done
  shift
done
shift
exec "$@"
"""
"""Waits until each URL before `--` answers 200, then becomes the command after it."""


@dataclass(frozen=True)
class VllmServerSpec:
    """Everything a vLLM container needs except its secrets (backend key, HF token)."""

    service: ServiceKey
    container_name: str
    image: str
    command: list[str]
    port: int
    gpu_ids: list[int]
    image_entrypoint: list[str] = field(default_factory=list)
    """What the image runs before `command`."""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        """What runs where, as container labels: visible where the environment is not."""
        return {"service": self.service, "gpus": ",".join(str(gpu) for gpu in self.gpu_ids)}


def _kind(settings: Settings) -> VllmImageKind:
    kind = settings.images.vllm_image_kind
    assert kind is not None, "validated by config.rules.images"
    return kind


def vllm_command(settings: Settings, service: ServiceKey) -> list[str]:
    """The container command: what follows the image's entrypoint."""
    config = settings.services[service]
    kind = _kind(settings)
    version = settings.images.vllm_version_in_image
    assert version is not None, "validated by config.rules.images"
    spec = settings.catalog.models.get(config.model)

    command = [
        *kind.command_prefix,
        config.model,
        "--served-model-name", config.served_name,
        "--host", "0.0.0.0",
        "--port", str(SERVICES[service].port),
        "--max-model-len", str(config.max_model_len),
        "--gpu-memory-utilization", f"{config.gpu_memory_utilization:g}",
        "--tensor-parallel-size", str(config.tensor_parallel_size),
        "--dtype", config.dtype,
    ]  # fmt: skip
    if config.quantization:
        command += ["--quantization", config.quantization]
    if spec is not None and spec.trust_remote_code:
        command.append("--trust-remote-code")
    if SERVICES[service].pooling:
        pooling = version >= POOLING_RUNNER_SINCE
        command += ["--runner", "pooling"] if pooling else ["--task", "embed"]
    else:
        tool_calling = spec.tool_calling if isinstance(spec, ChatModelSpec) else None
        assert tool_calling is not None, "validated by config.rules.tool_calling"
        command += tool_calling_flags(tool_calling, version)
    return command + list(config.extra_args)


def tool_calling_flags(spec: ToolCallingSpec, version: Version) -> list[str]:
    """What makes the chat server answer Metis's forced function calls with a function call.

    Both `--enable-auto-tool-choice` and `--tool-call-parser` are needed: with either one
    missing vLLM builds no tool parser and `/v1/responses` answers with plain text. Where
    vLLM has `--tool-strict-level`, `parameter` pins the call's arguments to the tool's
    schema (Metis's tools are not marked `strict`). See docs/reference/vllm-tool-calling.md.
    """
    flags = ["--enable-auto-tool-choice", "--tool-call-parser", spec.parser]
    if version >= TOOL_STRICT_LEVEL_SINCE:
        flags += ["--tool-strict-level", "parameter"]
    if spec.thinking_off:
        flags += ["--default-chat-template-kwargs", json.dumps({"enable_thinking": False})]
    return flags


def gpu_env(gpu_ids: range) -> dict[str, str]:
    """Environment that confines a container started with `gpus="all"` to some GPUs.

    With `--gpus all` Docker appends NVIDIA_VISIBLE_DEVICES=all to the container's
    environment, overriding any narrower value: every GPU is mounted, numbered as on the
    host. CUDA_VISIBLE_DEVICES then picks the service's range, in host (PCI bus) order.
    Saying `all` explicitly keeps the numbering the same whichever value would win.
    """
    return {
        "NVIDIA_VISIBLE_DEVICES": "all",
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
        "CUDA_VISIBLE_DEVICES": ",".join(str(gpu) for gpu in gpu_ids),
    }


def vllm_server(settings: Settings, service: ServiceKey) -> VllmServerSpec:
    config = settings.services[service]
    return VllmServerSpec(
        service=service,
        container_name=f"vllm-{service}",
        image=settings.images.vllm,
        command=vllm_command(settings, service),
        port=SERVICES[service].port,
        gpu_ids=list(config.gpu_ids),
        image_entrypoint=list(_kind(settings).entrypoint),
        env={**gpu_env(config.gpu_ids), "HF_HOME": HF_CACHE_CONTAINER_DIR},
    )


def started_before(settings: Settings, service: ServiceKey, host: str) -> list[ServiceKey]:
    """The services whose replica on the same host and GPUs starts before this one's. vLLM
    sizes its KV cache from the GPU's free memory and assumes no other process changes its
    use of the GPU while it profiles (vllm/v1/worker/gpu_worker.py): one at a time."""
    start_order = list(SERVICES)
    gpus = set(settings.services[service].gpu_ids)
    return [
        other
        for other in start_order[: start_order.index(service)]
        if host in settings.services[other].hosts and gpus & set(settings.services[other].gpu_ids)
    ]


START_AFTER_ENTRYPOINT = ["/bin/sh", "-c", START_AFTER_SCRIPT, "start-after"]
"""Replaces the image's entrypoint of a server that must start after others on its GPUs:
also when Docker starts every container at once after a reboot, it first waits for the
others' /health."""


def start_after_command(spec: VllmServerSpec, health_urls: list[str]) -> list[str]:
    """The URLs to wait for, then the image's own command line (its entrypoint and command)."""
    return [*health_urls, "--", *spec.image_entrypoint, *spec.command]

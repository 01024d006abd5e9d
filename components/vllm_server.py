"""A vLLM server: one replica of the chat or embedding service on one host."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.containers import (
    container_options,
    healthcheck,
    instance_label,
    pinned_image,
    secret_envs,
)
from components.host import Host
from renderers.probes import HttpProbe
from renderers.vllm import (
    HF_CACHE_CONTAINER_DIR,
    HF_CACHE_HOST_DIR,
    HF_TOKEN_ENV,
    START_AFTER_ENTRYPOINT,
    VLLM_API_KEY_ENV,
    VLLM_HEALTH_PATH,
    VllmServerSpec,
    start_after_command,
)

SHM_SIZE_MB = 8192
"""Shared memory for PyTorch workers and NCCL (tensor parallelism), instead of host IPC."""
READY_TIMEOUT_SECONDS = 3600
"""`pulumi up` waits this long for a healthy server: model download (a 32B model is ~65 GB),
loading onto the GPUs, compilation and CUDA graphs (docs/reference/deploy-timeline.md)."""
STARTUP_GRACE_SECONDS = 20 * 60
"""Health check failures do not count for this long; a slower start is unhealthy for a
while, then healthy (Docker keeps probing), and the health wait still covers it."""


@dataclass(frozen=True)
class VllmServerArgs:
    spec: VllmServerSpec
    host: Host
    backend_key: pulumi.Input[str]
    hf_token: pulumi.Input[str] | None = None
    start_after: Sequence[VllmServer] = ()
    """Servers on the same GPUs: vLLM sizes its KV cache from the GPU's free memory while it
    profiles, so it starts only once they are healthy, at deploy (Pulumi's order) and at
    every boot (its entrypoint waits for their /health)."""


class VllmServer(pulumi.ComponentResource):
    """A pinned vLLM image and its container: all GPUs mounted, its own range made visible,
    the port published on the host's private IP only, weights cached on the host, keys by
    environment, healthy before `pulumi up` moves on."""

    url: pulumi.Output[str]
    """`http://<private ip>:<port>/v1`, reachable from the stack's hosts only."""
    health_url: pulumi.Output[str]
    container_name: pulumi.Output[str]
    container: docker.Container
    """For ordering (another server on the same GPUs starts after this one is healthy), and
    its id changes whenever the container is replaced (the review probe re-runs then)."""

    def __init__(self, name: str, args: VllmServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:vllm:VllmServer", name, None, opts)
        spec, host = args.spec, args.host
        on_host = pulumi.ResourceOptions(parent=self, provider=host.docker_provider)

        secrets = {VLLM_API_KEY_ENV: args.backend_key}
        if args.hf_token is not None:
            secrets[HF_TOKEN_ENV] = args.hf_token

        image = pinned_image(f"{name}-image", spec.image, host.instance_id, on_host)
        entrypoints, command = None, pulumi.Output.from_input(spec.command)
        if args.start_after:
            waited = pulumi.Output.all(*(server.health_url for server in args.start_after))
            entrypoints = START_AFTER_ENTRYPOINT
            command = waited.apply(lambda urls: start_after_command(spec, urls))
        self.container = docker.Container(
            f"{name}-container",
            name=spec.container_name,
            image=image.image_id,
            entrypoints=entrypoints,
            command=command,
            gpus="all",
            envs=secret_envs(spec.env, secrets),
            shm_size=SHM_SIZE_MB,
            ports=[
                docker.ContainerPortArgs(internal=spec.port, external=spec.port, ip=host.private_ip)
            ],
            volumes=[
                docker.ContainerVolumeArgs(
                    host_path=HF_CACHE_HOST_DIR, container_path=HF_CACHE_CONTAINER_DIR
                )
            ],
            healthcheck=healthcheck(
                HttpProbe(
                    port=spec.port,
                    path=VLLM_HEALTH_PATH,
                    start_period_seconds=STARTUP_GRACE_SECONDS,
                )
            ),
            # `envs` is one secret as a whole (it carries keys): labels keep the placement
            # reviewable in `pulumi preview`.
            labels=[
                *(
                    docker.ContainerLabelArgs(label=f"metis-llm.{key}", value=value)
                    for key, value in spec.labels.items()
                ),
                instance_label(host.instance_id),
            ],
            restart="unless-stopped",
            must_run=True,
            wait=True,
            wait_timeout=READY_TIMEOUT_SECONDS,
            opts=container_options(
                on_host,
                READY_TIMEOUT_SECONDS,
                after=[server.container for server in args.start_after],
            ),
        )
        self.container_name = self.container.name
        self.url = pulumi.Output.format("http://{0}:{1}/v1", host.private_ip, spec.port)
        self.health_url = pulumi.Output.format(
            "http://{0}:{1}{2}", host.private_ip, spec.port, VLLM_HEALTH_PATH
        )
        self.register_outputs(
            {
                "url": self.url,
                "container_name": self.container_name,
                "container_id": self.container.id,
            }
        )

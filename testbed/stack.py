"""A stack's backend on loopback, as deployed: one loopback address per host (any 127.x.y.z
is loopback), a test vLLM server per replica started from its rendered command at its real
port, and the real LiteLLM proxy running the stack's rendered config unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.settings import Settings
from renderers.litellm import Deployment, render_litellm_config
from renderers.vllm import vllm_command
from testbed.certificates import loopback_certificates
from testbed.fake_vllm import FakeVllm
from testbed.litellm_proxy import LitellmProxy


def loopback_addresses(settings: Settings) -> dict[str, str]:
    """An address per host of the stack, as its private IP: 127.0.0.2, 127.0.0.3, ..."""
    return {host: f"127.0.0.{index}" for index, host in enumerate(settings.hosts, start=2)}


def replica_server(
    settings: Settings,
    deployment: Deployment,
    addresses: dict[str, str],
    api_key: str,
    *,
    command: Sequence[str] | None = None,
    **options: Any,
) -> FakeVllm:
    """The test server a replica's container runs (not started): from the rendered command
    (or `command`), at its host's address and the service's port."""
    return FakeVllm.from_command(
        command if command is not None else vllm_command(settings, deployment.service),
        api_key,
        dimension=settings.services[deployment.service].vector_dimension,
        host=addresses[deployment.host],
        port=deployment.port,
        **options,
    )


def stack_router(
    settings: Settings,
    addresses: dict[str, str],
    *,
    router_key: str,
    backend_key: str,
    port: int | None = None,
) -> LitellmProxy:
    """The real proxy with the stack's rendered config, workers and scheme (not started),
    on `port` (a free one by default): HTTPS with test-mode certificates
    (renderers/certificates.py plus a 127.0.0.1 name) unless the stack asks for plain HTTP."""
    return LitellmProxy(
        render_litellm_config(settings, addresses),
        master_key=router_key,
        backend_key=backend_key,
        num_workers=settings.router.num_workers,
        port=port,
        tls=None if settings.router.plain_http else loopback_certificates(),
    )

"""The LiteLLM router: its config file, command and plain environment.

The rendered file holds no secret: the master key and the backend key are whole-value
`os.environ/...` references that LiteLLM resolves from the container's environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from config.services import SERVICES, ServiceKey
from config.settings import Settings
from renderers.certificates import CA_FILE, CERT_FILE, KEY_FILE
from renderers.probes import HttpProbe

CONTAINER_NAME = "litellm"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
"""The router key clients send (Metis's VLLM_API_KEY)."""
ROUTER_BACKEND_KEY_ENV = "VLLM_BACKEND_KEY"
"""Holds, in the router's container, the key it sends to the vLLM servers (which they read
from VLLM_API_KEY_ENV); a different key from the router's."""
CONFIG_PATH = "/app/config.yaml"
ROUTER_HEALTH_PATH = "/health/liveliness"
"""Unauthenticated; `/health` would call every model and needs the key."""

PLAIN_ENV: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_LOG": "WARNING",
}
"""Use the bundled price map (no download at start); PRODUCTION: no `.env` is loaded;
WARNING: no log line per request."""

ROUTER_SETTINGS: dict[str, Any] = {
    "routing_strategy": "simple-shuffle",
    "num_retries": 2,
    "allowed_fails": 0,
    "cooldown_time": 10,
}
"""Measured against the real proxy with a replica killed, answering 500, or stalling:
`allowed_fails: 0` cools a failing replica down at its first failure, and the retries go to
the others: no client saw an error. LiteLLM's default of 3 (also in Metis's walkthrough)
never turns that policy on, and 3-9% of requests failed. The cooldown stays short because
when every replica of a model fails at once, clients get 429s for its whole length."""


@dataclass(frozen=True)
class Deployment:
    """One replica behind the router."""

    service: ServiceKey
    host: str
    model_name: str
    """What clients send as `model`: the service's served name."""

    @property
    def deployment_id(self) -> str:
        """Stable across renders, so LiteLLM's cooldown state follows the replica."""
        return f"{self.service}-{self.host}"

    @property
    def port(self) -> int:
        return SERVICES[self.service].port


def deployments(settings: Settings) -> list[Deployment]:
    return [
        Deployment(service=key, host=host, model_name=service.served_name)
        for key, service in settings.services.items()
        for host in service.hosts
    ]


def _model_entry(deployment: Deployment, address: str, timeout: int) -> dict[str, Any]:
    model_info: dict[str, Any] = {"id": deployment.deployment_id}
    if SERVICES[deployment.service].pooling:
        model_info["mode"] = "embedding"
    return {
        "model_name": deployment.model_name,
        "litellm_params": {
            "model": f"hosted_vllm/{deployment.model_name}",
            "api_base": f"http://{address}:{deployment.port}/v1",
            "api_key": f"os.environ/{ROUTER_BACKEND_KEY_ENV}",
            "timeout": timeout,
        },
        "model_info": model_info,
    }


METRICS_SETTINGS: dict[str, Any] = {
    "callbacks": ["prometheus"],
    "require_auth_for_metrics_endpoint": True,
}
"""LiteLLM's Prometheus metrics on /metrics/ (free in 1.108.7), which then needs the router
key, as 1.108.7 already defaults to: the router port is open to its callers
(docs/reference/observability.md)."""


def litellm_config(settings: Settings, private_ips: Mapping[str, str]) -> dict[str, Any]:
    """The router config for replicas at the given private IPs (by host name)."""
    timeout = settings.router.timeout_seconds
    metrics = METRICS_SETTINGS if settings.monitoring.enabled else {}
    return {
        "model_list": [
            _model_entry(deployment, private_ips[deployment.host], timeout)
            for deployment in deployments(settings)
        ],
        "router_settings": ROUTER_SETTINGS | {"timeout": timeout},
        "litellm_settings": {"drop_params": True, **metrics},
        "general_settings": {"master_key": f"os.environ/{MASTER_KEY_ENV}"},
    }


def render_litellm_config(settings: Settings, private_ips: Mapping[str, str]) -> str:
    return yaml.safe_dump(litellm_config(settings, private_ips), sort_keys=False)


def tls_flags(cert_file: str = CERT_FILE, key_file: str = KEY_FILE) -> list[str]:
    """LiteLLM serves TLS itself (uvicorn) with both paths; with only one of them it would
    silently serve plain HTTP (litellm/proxy/proxy_cli.py 1.108.7), so they go together."""
    return ["--ssl_keyfile_path", key_file, "--ssl_certfile_path", cert_file]


def litellm_command(settings: Settings) -> list[str]:
    """Flags only: the image's ENTRYPOINT already runs `litellm`."""
    return [
        "--config", CONFIG_PATH,
        "--port", str(settings.router.port),
        "--num_workers", str(settings.router.num_workers),
        *([] if settings.router.plain_http else tls_flags()),
    ]  # fmt: skip


def router_health_probe(settings: Settings) -> HttpProbe:
    """The router container's health check, over the scheme it serves."""
    ca_file = None if settings.router.plain_http else CA_FILE
    return HttpProbe(port=settings.router.port, path=ROUTER_HEALTH_PATH, ca_file=ca_file)

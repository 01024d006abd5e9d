"""The servers under test: a test server per replica of the stack, each in a process of its
own, and the stack's rendered router config pointed at them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import yaml

from config.services import SERVICES
from config.settings import Settings
from renderers.litellm import deployments, render_litellm_config
from testbed.fake_vllm.process import FakeVllmProcess

ROUTER_KEY = "sk-bench-router-key"
BACKEND_KEY = "bench-backend-key"


@dataclass(frozen=True)
class Replica:
    """One vLLM server of the stack, as a test server needs it."""

    deployment_id: str
    service: str
    served_name: str
    dimension: int | None
    max_model_len: int


def stack_replicas(settings: Settings) -> list[Replica]:
    replicas = []
    for deployment in deployments(settings):
        service = settings.services[deployment.service]
        replicas.append(
            Replica(
                deployment_id=deployment.deployment_id,
                service=deployment.service,
                served_name=deployment.model_name,
                dimension=service.vector_dimension,
                max_model_len=service.max_model_len,
            )
        )
    return replicas


def point_at_test_servers(config_text: str, urls: Mapping[str, str]) -> str:
    """The rendered router config with each replica's ``api_base`` replaced by its test
    server's URL (by deployment id).

    Rendering with every host at 127.0.0.1 is not enough: the renderer puts each service on
    its fixed vLLM port, which collides when several replicas share one loopback address.
    """
    config = yaml.safe_load(config_text)
    for entry in config["model_list"]:
        entry["litellm_params"]["api_base"] = urls[entry["model_info"]["id"]]
    return yaml.safe_dump(config, sort_keys=False)


def with_overrides(config_text: str, overrides: Sequence[str]) -> str:
    """Apply ``section.key=value`` overrides (value parsed as YAML) to a router config."""
    if not overrides:
        return config_text
    config = yaml.safe_load(config_text)
    for override in overrides:
        dotted, _, raw_value = override.partition("=")
        *parents, leaf = dotted.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(raw_value)
    return yaml.safe_dump(config, sort_keys=False)


@dataclass(frozen=True)
class RunningServers:
    urls: dict[str, str]
    """OpenAI base URLs by deployment id."""
    pids: list[int]

    def base_urls(self, replicas: Sequence[Replica]) -> dict[str, list[str]]:
        """Per service (``chat``/``embedding``), its replicas' base URLs."""
        return {
            service: [self.urls[r.deployment_id] for r in replicas if r.service == service]
            for service in SERVICES
        }


@contextlib.contextmanager
def running_test_servers(replicas: Sequence[Replica]) -> Iterator[RunningServers]:
    """Run each replica's test server in its own process, until the block ends."""
    with contextlib.ExitStack() as running:
        servers = [
            running.enter_context(
                FakeVllmProcess(
                    replica.served_name,
                    name=f"bench-{replica.deployment_id}",
                    api_key=BACKEND_KEY,
                    dimension=replica.dimension,
                    max_model_len=replica.max_model_len,
                )
            )
            for replica in replicas
        ]
        urls = {
            replica.deployment_id: server.url
            for replica, server in zip(replicas, servers, strict=True)
            if server.url is not None
        }
        yield RunningServers(urls, [server.pid for server in servers if server.pid])


def router_config(settings: Settings, urls: Mapping[str, str], overrides: Sequence[str]) -> str:
    """The stack's rendered router config, pointed at the test servers, with overrides."""
    rendered = render_litellm_config(settings, dict.fromkeys(settings.hosts, "127.0.0.1"))
    return with_overrides(point_at_test_servers(rendered, urls), overrides)

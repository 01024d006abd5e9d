"""Docker containers on the hosts: pinned images, and vLLM reachable on private addresses
only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from .pinning import is_pinned
from .props import entries, mapping, number
from .rule import guardrail

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"

IMAGE_INPUTS = {REMOTE_IMAGE: "name", CONTAINER: "image"}
"""Where each resource names the image it pulls or runs."""

ROUTER_CONTAINER = "litellm"
"""The router's container name (components.router): the one container published on all
interfaces, behind the security group. Containers run image ids, not repository names,
so the name is what tells the router apart."""

ACTIVITY_PUBLISHER = "metis-llm-activity"
"""The idle stop's publisher (components.idle_stop): on the host network, because boto3 reaches
the instance role through the metadata service, which IMDSv2's hop limit of 1 keeps from
bridged containers. It listens on nothing and may publish no port."""

ALL_INTERFACES = frozenset({"", "0.0.0.0", "::", "[::]"})
"""Host addresses that publish a port on every interface (Docker's default is 0.0.0.0)."""


def pinned_image(args: ResourceValidationArgs) -> Iterator[str]:
    key = IMAGE_INPUTS[args.resource_type]
    image = args.props.get(key)
    if not isinstance(image, str) or not is_pinned(image):
        yield f"has {key} {image}: a rolling or missing tag, so what runs could change"


LISTEN_FLAG = "--web.listen-address="
"""Prometheus's and node-exporter's listen address (`ADDRESS:PORT`) on their command line."""
LISTEN_ENV = "GF_SERVER_HTTP_ADDR="
"""Grafana's listen address, from its environment."""


def listen_addresses(props: Any) -> list[str]:
    """The addresses a container names for its server to listen on (command or environment)."""
    found = [
        str(arg)[len(LISTEN_FLAG) :].rpartition(":")[0]
        for arg in entries(props.get("command"))
        if str(arg).startswith(LISTEN_FLAG)
    ]
    found += [
        str(env)[len(LISTEN_ENV) :]
        for env in entries(props.get("envs"))
        if str(env).startswith(LISTEN_ENV)
    ]
    return found


def private_backend(args: ResourceValidationArgs) -> Iterator[str]:
    props = args.props
    if props.get("name") == ROUTER_CONTAINER:
        return
    if props.get("networkMode") == "host" and props.get("name") != ACTIVITY_PUBLISHER:
        addresses = listen_addresses(props)
        if not addresses or any(address in ALL_INTERFACES for address in addresses):
            yield (
                "uses host networking without naming a loopback or private address to listen "
                "on, so it listens on every interface of the host"
            )
    for port in map(mapping, entries(props.get("ports"))):
        address = port.get("ip") or ""
        if props.get("name") == ACTIVITY_PUBLISHER:
            yield f"publishes port {number(port.get('internal'))}, which the publisher never does"
            continue
        if address in ALL_INTERFACES:
            yield (
                f"publishes port {number(port.get('internal'))} on all interfaces "
                f"({address or 'no ip, i.e. 0.0.0.0'})"
            )


IMAGES_PINNED = guardrail(
    name="images-pinned",
    description="Every image pulled or run is pinned to an exact version or a digest.",
    resource_types=set(IMAGE_INPUTS),
    check=pinned_image,
    fix="set metis-llm:images.* to an exact version, e.g. vllm/vllm-openai:v0.32.0 (optionally "
    "@sha256:<digest>), and run containers from the pulled RemoteImage's image_id",
)

BACKENDS_PRIVATE = guardrail(
    name="backends-not-published",
    description="Only the router container is published on all interfaces; vLLM containers "
    "publish their ports on the host's private address only, and a container on the host's "
    "network names the loopback or private address it listens on (but the activity "
    "publisher, which listens on none).",
    resource_types={CONTAINER},
    check=private_backend,
    fix="publish vLLM ports with ports[].ip set to the host's private IP and keep the default "
    "bridge network; on the host network, bind to 127.0.0.1 or the private IP "
    f"({LISTEN_FLAG}ADDRESS:PORT, {LISTEN_ENV}ADDRESS); only the router container "
    f"({ROUTER_CONTAINER}) listens on all interfaces",
)

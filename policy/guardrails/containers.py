"""Docker containers on the hosts: pinned images, and vLLM reachable on private addresses
only."""

from __future__ import annotations

from collections.abc import Iterator

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


def private_backend(args: ResourceValidationArgs) -> Iterator[str]:
    props = args.props
    if props.get("name") == ROUTER_CONTAINER:
        return
    if props.get("networkMode") == "host" and props.get("name") != ACTIVITY_PUBLISHER:
        yield "uses host networking, which listens on every interface of the host"
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
    "publish their ports on the host's private address only; only the activity publisher, "
    "which publishes none, uses the host network.",
    resource_types={CONTAINER},
    check=private_backend,
    fix="publish vLLM ports with ports[].ip set to the host's private IP and keep the default "
    f"bridge network; only the router container ({ROUTER_CONTAINER}) listens on all interfaces",
)

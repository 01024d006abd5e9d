"""A router open to the internet serves TLS: the code under review and the router key never
cross the internet in clear text.

A port the router container publishes, when the stack's rules taken together open it to the
internet (`config.exposure`), must carry LiteLLM's two TLS flags in the container's command
(with one of them alone LiteLLM serves plain HTTP). In domain mode the router port is open
to the load balancer only, whose listener is TLS. Other ports open to the world are
no-world-ingress's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity, StackValidationArgs

from config.exposure import opens_to_internet

from .containers import CONTAINER, ROUTER_CONTAINER
from .network import Ingress, stack_ingresses
from .props import entries, mapping, number
from .rule import StackViolation, stack_guardrail

TLS_FLAGS = ("--ssl_keyfile_path", "--ssl_certfile_path")


def world_tcp_ports(rules: list[Ingress]) -> set[int]:
    """Single TCP ports (as rules name them) that the rules together open to the internet."""
    candidates = {r.ports[0] for r in rules if r.ports[0] == r.ports[1] and r.protocol == "tcp"}
    return {
        port
        for port in candidates
        if opens_to_internet(
            block for r in rules if r.covers("tcp", (port, port)) for block in r.blocks
        )
    }


def _published(props: Mapping[str, Any]) -> set[int]:
    ports = set()
    for port in map(mapping, entries(props.get("ports"))):
        external = number(port.get("external")) or number(port.get("internal"))
        if external is not None:
            ports.add(external)
    return ports


def plain_router_ports(args: StackValidationArgs) -> set[int]:
    """Ports a router container publishes without serving TLS."""
    plain: set[int] = set()
    for resource in args.resources:
        if resource.resource_type != CONTAINER or resource.props.get("name") != ROUTER_CONTAINER:
            continue
        command = [str(arg) for arg in entries(resource.props.get("command"))]
        if not all(flag in command for flag in TLS_FLAGS):
            plain |= _published(resource.props)
    return plain


def public_router_tls(args: StackValidationArgs) -> Iterator[StackViolation]:
    rules = stack_ingresses(args)
    plain = world_tcp_ports(rules) & plain_router_ports(args)
    for rule in rules:
        for port in sorted(plain):
            if rule.covers("tcp", (port, port)):
                yield StackViolation(
                    rule.urn,
                    rule.resource,
                    f"opens tcp {port} to the internet, where the router serves plain HTTP: "
                    "code under review and the router key would cross the internet in clear "
                    "text",
                )


PUBLIC_ROUTER_TLS = stack_guardrail(
    name="public-router-tls",
    description="A router port open to the internet is served with TLS (LiteLLM's TLS "
    "flags); with a domain, only the load balancer's TLS listener is open.",
    check=public_router_tls,
    severity=Severity.CRITICAL,
    fix="remove metis-llm:router.plain_http (the router serves HTTPS by default), or list "
    "narrower metis-llm:router.allowed_cidrs",
)

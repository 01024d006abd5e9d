"""Nothing is let in from the whole internet, except the router port of a stack that opens
its router to the world on purpose."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity

from .props import entries, mapping, number
from .rule import guardrail

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

PUBLIC_ROUTER_PORT = "allowPublicRouterPort"
"""Pack config: the one TCP port that may be open to the world. Set it to the router port
of a stack with `metis-llm:router.allow_public: true`, and only for that stack."""

ALL_PROTOCOLS = frozenset({"-1", "all"})
TCP = frozenset({"tcp", "6"})


@dataclass(frozen=True)
class Ingress:
    """One source let in by a rule, with what it may reach."""

    source: str
    protocol: str
    ports: tuple[int | None, int | None]

    @property
    def traffic(self) -> str:
        if self.protocol in ALL_PROTOCOLS:
            return "all traffic"
        low, high = self.ports
        return f"{self.protocol} {low}" if low == high else f"{self.protocol} {low}-{high}"

    def is_only_tcp_port(self, port: int) -> bool:
        return self.protocol in TCP and self.ports == (port, port)


def is_world(cidr: str) -> bool:
    """Whether a CIDR is the whole address space (0.0.0.0/0, ::/0 or another /0)."""
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _ingress(rule: Mapping[str, Any], sources: list[Any], protocol_key: str) -> Iterator[Ingress]:
    protocol = str(rule.get(protocol_key) or "").lower()
    ports = (number(rule.get("fromPort")), number(rule.get("toPort")))
    for source in sources:
        if isinstance(source, str):
            yield Ingress(source, protocol, ports)


def _cidr_blocks(rule: Mapping[str, Any]) -> list[Any]:
    return [*entries(rule.get("cidrBlocks")), *entries(rule.get("ipv6CidrBlocks"))]


def ingresses(args: ResourceValidationArgs) -> Iterator[Ingress]:
    """What a security group, a security group rule or an ingress rule lets in."""
    props = args.props
    if args.resource_type == INGRESS_RULE:
        yield from _ingress(props, [props.get("cidrIpv4"), props.get("cidrIpv6")], "ipProtocol")
    elif args.resource_type == SECURITY_GROUP_RULE:
        if props.get("type") == "ingress":
            yield from _ingress(props, _cidr_blocks(props), "protocol")
    else:
        for rule in map(mapping, entries(props.get("ingress"))):
            yield from _ingress(rule, _cidr_blocks(rule), "protocol")


def world_ingress(args: ResourceValidationArgs) -> Iterator[str]:
    allowed = number(args.get_config().get(PUBLIC_ROUTER_PORT))
    for ingress in ingresses(args):
        if not is_world(ingress.source):
            continue
        if allowed is not None and ingress.is_only_tcp_port(allowed):
            continue
        only = (
            f" (only tcp {allowed}, the router port, may be: {PUBLIC_ROUTER_PORT})"
            if allowed is not None
            else ""
        )
        yield f"lets {ingress.traffic} in from {ingress.source}, the whole internet{only}"


NO_WORLD_INGRESS = guardrail(
    name="no-world-ingress",
    description="No security group lets anything in from the whole internet (0.0.0.0/0, "
    "::/0), except the router port of a stack that opens its router to the world on purpose.",
    resource_types={SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE},
    check=world_ingress,
    severity=Severity.CRITICAL,
    fix="let in only the CIDRs that need access (metis-llm:router.allowed_cidrs, "
    "metis-llm:access.admin_cidrs); a router open to the world on purpose needs "
    "metis-llm:router.allow_public: true in the stack and "
    f"{PUBLIC_ROUTER_PORT}: <its router port> in this policy's config",
    config_schema=PolicyConfigSchema(
        properties={
            PUBLIC_ROUTER_PORT: {
                "type": "integer",
                "minimum": 1024,
                "maximum": 65535,
                "description": "The router port of a stack with metis-llm:router.allow_public: "
                "true: the only port that may be open to the world (TCP only).",
            }
        }
    ),
)

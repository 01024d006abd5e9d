"""Security group rules: nothing is let in from the internet, except the router port of a
stack that opens its router to the world on purpose; nothing reaches a vLLM port from
outside the stack's own group.

What counts as "the internet" is the stack config's own definition (`config.exposure`),
applied to every rule of the stack together: `0.0.0.0/1` and `128.0.0.0/1` in two rules open
a port to the world as much as `0.0.0.0/0` in one. Rules are judged together whatever group
they belong to (during a preview the groups' ids are not known yet), which can only refuse
more: a host in two groups gets both groups' rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity, StackValidationArgs

from config.exposure import opens_to_internet, public_blocks, reach
from config.ports import MONITORING_PORTS, VLLM_PORTS

from .props import entries, mapping, number
from .rule import StackViolation, guardrail, stack_guardrail

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INGRESS_TYPES = frozenset({SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE})

PUBLIC_ROUTER_PORT = "allowPublicRouterPort"
"""Pack config: the one TCP port that may be open to the world. Set it to the router port
of a stack with `metis-llm:router.allow_public: true`, and only for that stack."""

ALL_PROTOCOLS = frozenset({"-1", "all"})
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
EVERY_PORT = (0, 65535)


@dataclass(frozen=True)
class Ingress:
    """One rule (or inline rule) letting traffic in, with the CIDR blocks it lets in from."""

    resource: str
    urn: str
    protocol: str
    """`all`, or a protocol name (`tcp`, `udp`, ...)."""
    ports: tuple[int, int]
    blocks: tuple[str, ...]

    def covers(self, protocol: str, ports: tuple[int, int]) -> bool:
        low, high = ports
        return self.protocol in ("all", protocol) and self.ports[0] <= low <= high <= self.ports[1]


def _traffic(protocol: str, ports: tuple[int, int]) -> str:
    if protocol == "all":
        return "all traffic"
    low, high = ports
    return f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"


def _protocol(rule: Mapping[str, Any], key: str) -> str:
    name = str(rule.get(key) or "").lower()
    return "all" if name in ALL_PROTOCOLS else PROTOCOL_NAMES.get(name, name)


def _ports(rule: Mapping[str, Any], protocol: str) -> tuple[int, int]:
    low, high = number(rule.get("fromPort")), number(rule.get("toPort"))
    if protocol == "all" or low is None:
        return EVERY_PORT
    return low, high if high is not None else low


def _cidr_blocks(rule: Mapping[str, Any]) -> list[Any]:
    return [*entries(rule.get("cidrBlocks")), *entries(rule.get("ipv6CidrBlocks"))]


def rule_entries(resource_type: str, props: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The ingress rules a resource holds, with the key naming its protocol."""
    if resource_type == INGRESS_RULE:
        yield props
    elif resource_type == SECURITY_GROUP_RULE:
        if props.get("type") == "ingress":
            yield props
    else:
        yield from map(mapping, entries(props.get("ingress")))


def _protocol_key(resource_type: str) -> str:
    return "ipProtocol" if resource_type == INGRESS_RULE else "protocol"


def ingresses(resource_type: str, props: Mapping[str, Any], name: str, urn: str) -> list[Ingress]:
    """What a security group, a security group rule or an ingress rule lets in from CIDRs."""
    found = []
    for rule in rule_entries(resource_type, props):
        if resource_type == INGRESS_RULE:
            blocks = [rule.get("cidrIpv4"), rule.get("cidrIpv6")]
        else:
            blocks = _cidr_blocks(rule)
        texts = tuple(block for block in blocks if isinstance(block, str))
        if texts:
            protocol = _protocol(rule, _protocol_key(resource_type))
            found.append(Ingress(name, urn, protocol, _ports(rule, protocol), texts))
    return found


def _segments(rules: Sequence[Ingress]) -> list[tuple[int, int]]:
    """The port ranges on which the same rules apply: split at every rule's edges."""
    edges = sorted({p for rule in rules for p in (rule.ports[0], rule.ports[1] + 1)})
    return [(low, high - 1) for low, high in itertools.pairwise(edges)]


def world_openings(rules: Sequence[Ingress], allowed_port: int | None) -> Iterator[StackViolation]:
    """One violation per rule that, alone or with others, opens some traffic to the internet."""
    reported: set[tuple[str, str]] = set()
    protocols = sorted({rule.protocol for rule in rules})
    for protocol in protocols:
        applicable = [r for r in rules if r.protocol in ("all", protocol)]
        for segment in _segments(applicable):
            if protocol == "tcp" and segment == (allowed_port, allowed_port):
                continue
            covering = [r for r in applicable if r.covers(protocol, segment)]
            blocks = [block for r in covering for block in r.blocks]
            if not opens_to_internet(blocks):
                continue
            opened = reach(public_blocks(blocks))
            for rule in covering:
                mine = public_blocks(rule.blocks)
                if not mine or (rule.urn, rule.resource) in reported:
                    continue
                reported.add((rule.urn, rule.resource))
                others = sorted(
                    {r.resource for r in covering if r is not rule and public_blocks(r.blocks)}
                )
                together = f"; with {', '.join(others)} that is" if others else ","
                only = (
                    f" (only tcp {allowed_port}, the router port, may be: {PUBLIC_ROUTER_PORT})"
                    if allowed_port is not None
                    else ""
                )
                yield StackViolation(
                    rule.urn,
                    rule.resource,
                    f"lets {_traffic(rule.protocol, rule.ports)} in from {', '.join(mine)}"
                    f"{together} {opened}{only}",
                )


def stack_ingresses(args: StackValidationArgs) -> list[Ingress]:
    """Every ingress rule of the stack, from security groups and separate rule resources."""
    return [
        ingress
        for resource in args.resources
        if resource.resource_type in INGRESS_TYPES
        for ingress in ingresses(
            resource.resource_type, resource.props, resource.name, resource.urn
        )
    ]


def world_ingress(args: StackValidationArgs) -> Iterator[StackViolation]:
    rules = stack_ingresses(args)
    yield from world_openings(rules, number(args.get_config().get(PUBLIC_ROUTER_PORT)))


def _reached(protocol: str, ports: tuple[int, int], private: Collection[int]) -> list[int]:
    if protocol not in ("all", "tcp"):
        return []
    return [port for port in sorted(private) if ports[0] <= port <= ports[1]]


def _outside_sources(
    resource_type: str, rule: Mapping[str, Any], props: Mapping[str, Any]
) -> list[str]:
    """Who a rule lets in from outside the group it belongs to (nothing when only the group
    itself). Only the keys needed are read: ids unknown during a preview are read last."""
    if resource_type == INGRESS_RULE:
        sources = [rule.get("cidrIpv4"), rule.get("cidrIpv6"), rule.get("prefixListId")]
    else:
        sources = [*_cidr_blocks(rule), *entries(rule.get("prefixListIds"))]
        if resource_type == SECURITY_GROUP:
            sources += entries(rule.get("securityGroups"))
    named = [str(source) for source in sources if source]
    if named:
        return named
    if resource_type == SECURITY_GROUP_RULE and rule.get("self") is True:
        return []
    group_key = (
        "referencedSecurityGroupId" if resource_type == INGRESS_RULE else "sourceSecurityGroupId"
    )
    other = rule.get(group_key)
    if other and other != props.get("securityGroupId"):
        return [f"security group {other}"]
    return []


def _private_ports(
    args: ResourceValidationArgs, private: Mapping[int, str], what: str
) -> Iterator[str]:
    """Rules letting anything from outside the resource's own group reach a private port."""
    for rule in rule_entries(args.resource_type, args.props):
        protocol = _protocol(rule, _protocol_key(args.resource_type))
        ports = _ports(rule, protocol)
        if not (reached := _reached(protocol, ports, private)):
            continue
        if sources := _outside_sources(args.resource_type, rule, args.props):
            names = sorted({private[port] for port in reached})
            yield (
                f"lets {_traffic(protocol, ports)} in from {', '.join(sources)}: that reaches "
                f"the {what} port{'s' if len(reached) > 1 else ''} "
                f"{', '.join(map(str, reached))} ({', '.join(names)}) from outside the stack's "
                "own group"
            )


def private_vllm_ports(args: ResourceValidationArgs) -> Iterator[str]:
    yield from _private_ports(args, dict.fromkeys(VLLM_PORTS, "vLLM"), "vLLM")


def private_monitoring_ports(args: ResourceValidationArgs) -> Iterator[str]:
    yield from _private_ports(args, MONITORING_PORTS, "monitoring")


NO_WORLD_INGRESS = stack_guardrail(
    name="no-world-ingress",
    description="No security group rule, alone or with the stack's other rules, lets anything "
    "in from the internet (0.0.0.0/0, ::/0, or blocks covering as much), except the router "
    "port of a stack that opens its router to the world on purpose.",
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

VLLM_PORTS_PRIVATE = guardrail(
    name="vllm-ports-private",
    description="No security group rule lets anything reach a vLLM port "
    f"({', '.join(map(str, VLLM_PORTS))}) from outside the stack's own group: vLLM's key "
    "guards only /v1.",
    resource_types=INGRESS_TYPES,
    check=private_vllm_ports,
    severity=Severity.CRITICAL,
    fix="open the vLLM ports only to the stack's own security group "
    "(referenced_security_group_id = the group itself); the router reaches the backends "
    "from inside it, and its own port must be another one (metis-llm:router.port)",
)

MONITORING_PORTS_PRIVATE = guardrail(
    name="monitoring-ports-private",
    description="No security group rule lets anything reach a monitoring port "
    f"({', '.join(f'{port} {name}' for port, name in MONITORING_PORTS.items())}) from "
    "outside the stack's own group: Grafana and Prometheus listen on the router host's "
    "127.0.0.1 and are reached through a port forward, the exporters answer Prometheus only.",
    resource_types=INGRESS_TYPES,
    check=private_monitoring_ports,
    severity=Severity.CRITICAL,
    fix="open no monitoring port to CIDRs, prefix lists or other groups; reach Grafana with "
    "`python -m ops dashboard STACK` (a Session Manager or SSH port forward), and open the "
    "exporters to the stack's own security group only",
)

"""Where the hosts live and who may reach them: VPC, subnet and one security group."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple

import pulumi
import pulumi_aws as aws

from components.tags import stack_tags
from config.ports import EXPORTER_PORTS, MONITORING_PORTS, VLLM_PORTS
from config.settings import DOMAIN_PORT, Settings

SSH_PORT = 22


@dataclass(frozen=True)
class NetworkArgs:
    settings: Settings
    stack: str


def _rule_suffix(cidr: str) -> str:
    """A stable resource-name part for a CIDR, one per block: 198.51.100.0/24 ->
    198-51-100-0-24, 2001:db8::/32 -> 2001-db8---32 (every separator kept, so a::b/128 and
    a:b::/128 stay apart; the config refuses two spellings of one block)."""
    return re.sub(r"[.:/]", "-", cidr.lower())


def _cidr_args(cidr: str) -> dict[str, str]:
    version = ipaddress.ip_network(cidr).version
    return {"cidr_ipv4": cidr} if version == 4 else {"cidr_ipv6": cidr}


def _first_subnet_offering(
    instance_types: list[str], vpc_id: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The first default subnet of the VPC in an availability zone that offers every
    instance type of the stack (GPU types are not offered in every zone)."""
    offerings = aws.ec2.get_instance_type_offerings_output(
        location_type="availability-zone",
        filters=[{"name": "instance-type", "values": instance_types}],
    )

    def zones_with_all(result: aws.ec2.GetInstanceTypeOfferingsResult) -> list[str]:
        offered: dict[str, set[str]] = {}
        for zone, instance_type in zip(result.locations, result.instance_types, strict=True):
            offered.setdefault(zone, set()).add(instance_type)
        return sorted(zone for zone, types in offered.items() if types >= set(instance_types))

    subnets = aws.ec2.get_subnets_output(
        filters=[
            {"name": "vpc-id", "values": [vpc_id]},
            {"name": "default-for-az", "values": ["true"]},
            {"name": "availability-zone", "values": offerings.apply(zones_with_all)},
        ]
    )

    def first(ids: list[str]) -> str:
        if not ids:
            raise pulumi.RunError(
                f"no default subnet in a zone offering {', '.join(instance_types)}: set "
                "metis-llm:network.subnet_id (and vpc_id) to a subnet in a zone that has them"
            )
        return sorted(ids)[0]

    return subnets.ids.apply(first)


class IngressRule(NamedTuple):
    suffix: str
    """Resource-name suffix, stable for the same source."""
    description: str
    ports: tuple[int, int]
    source: dict[str, pulumi.Input[str]]
    """cidr_ipv4, cidr_ipv6 or referenced_security_group_id."""


def _router_rules(settings: Settings, lb_group_id: pulumi.Output[str] | None) -> list[IngressRule]:
    """The router group's: the router port from the allowed CIDRs, nothing else; with a
    domain, from the load balancer only (the allowed CIDRs filter at the load balancer)."""
    router = (settings.router.port, settings.router.port)
    if lb_group_id is not None:
        source = {"referenced_security_group_id": lb_group_id}
        return [IngressRule("router-from-lb", "router from its load balancer", router, source)]
    return [
        IngressRule(f"router-{_rule_suffix(cidr)}", f"router from {cidr}", router, _cidr_args(cidr))
        for cidr in settings.router.allowed_cidrs
    ]


def _load_balancer_rules(settings: Settings) -> list[IngressRule]:
    """The load balancer group's (domain mode): HTTPS from the allowed CIDRs."""
    https = (DOMAIN_PORT, DOMAIN_PORT)
    return [
        IngressRule(f"https-{_rule_suffix(cidr)}", f"HTTPS from {cidr}", https, _cidr_args(cidr))
        for cidr in settings.router.allowed_cidrs
    ]


def _host_rules(settings: Settings, group_id: pulumi.Output[str]) -> list[IngressRule]:
    """The group every host is in: vLLM and the exporters from the group itself, SSH in ssh
    mode. Grafana and Prometheus listen on the router host's 127.0.0.1: no rule names them."""
    rules = [
        IngressRule(
            "vllm-internal",
            "vLLM from the stack's own hosts",
            (min(VLLM_PORTS), max(VLLM_PORTS)),
            {"referenced_security_group_id": group_id},
        )
    ]
    if settings.monitoring.enabled:
        rules += [
            IngressRule(
                MONITORING_PORTS[port],
                f"{MONITORING_PORTS[port]} from the stack's own hosts (Prometheus)",
                (port, port),
                {"referenced_security_group_id": group_id},
            )
            for port in EXPORTER_PORTS
        ]
    if settings.access.mode == "ssh":
        rules += [
            IngressRule(
                f"ssh-{_rule_suffix(cidr)}",
                f"SSH from admin {cidr}",
                (SSH_PORT, SSH_PORT),
                _cidr_args(cidr),
            )
            for cidr in settings.access.admin_cidrs
        ]
    return rules


class Network(pulumi.ComponentResource):
    """The stack's subnet and its two security groups.

    Every host is in the hosts' group: the vLLM ports from that group only (router ->
    backends over private IPs), SSH only in `ssh` access mode and only from
    `access.admin_cidrs`. Only the router host is also in the router's group: its port from
    `router.allowed_cidrs` only. So the router's rule can never open a vLLM port of another
    host, whatever port it uses. Nothing else comes in.
    """

    vpc_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    """The group every host is in."""
    router_security_group_id: pulumi.Output[str]
    """The group only the router host is in."""
    load_balancer_security_group_id: pulumi.Output[str] | None
    """Domain mode only: the router's load balancer's group, which filters its callers."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:network:Network", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        chosen = settings.network
        tags = stack_tags(args.stack, "network")

        if chosen.vpc_id:
            self.vpc_id = pulumi.Output.from_input(chosen.vpc_id)
        elif chosen.subnet_id:
            self.vpc_id = aws.ec2.get_subnet_output(id=chosen.subnet_id, opts=invoke).vpc_id
        else:
            self.vpc_id = aws.ec2.get_vpc_output(default=True, opts=invoke).id
        if chosen.subnet_id:
            self.subnet_id = pulumi.Output.from_input(chosen.subnet_id)
        else:
            types = sorted({host.instance_type for host in settings.hosts.values()})
            self.subnet_id = _first_subnet_offering(types, self.vpc_id)

        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=self.vpc_id,
            description=f"metis-llm {args.stack}: every host; vLLM within the group",
            tags=tags,
            opts=child,
        )
        router_group = aws.ec2.SecurityGroup(
            f"{name}-router-sg",
            vpc_id=self.vpc_id,
            description=f"metis-llm {args.stack}: the router host; its port from allowed CIDRs",
            tags=tags,
            opts=child,
        )
        self.security_group_id = group.id
        self.router_security_group_id = router_group.id
        groups = [
            (group.id, _host_rules(settings, group.id)),
            (router_group.id, _router_rules(settings, None)),
        ]
        self.load_balancer_security_group_id = None
        if settings.router.domain:
            lb_group = aws.ec2.SecurityGroup(
                f"{name}-lb-sg",
                vpc_id=self.vpc_id,
                description=f"metis-llm {args.stack}: the router's load balancer; HTTPS from "
                "allowed CIDRs",
                tags=tags,
                opts=child,
            )
            self.load_balancer_security_group_id = lb_group.id
            groups[1] = (router_group.id, _router_rules(settings, lb_group.id))
            groups.append((lb_group.id, _load_balancer_rules(settings)))
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-lb-to-router",
                security_group_id=lb_group.id,
                description="to the router and its health check",
                ip_protocol="tcp",
                from_port=settings.router.port,
                to_port=settings.router.port,
                referenced_security_group_id=router_group.id,
                tags=tags,
                opts=child,
            )

        for group_id, rules in groups:
            for rule in rules:
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-{rule.suffix}",
                    security_group_id=group_id,
                    description=rule.description,
                    ip_protocol="tcp",
                    from_port=rule.ports[0],
                    to_port=rule.ports[1],
                    tags=tags,
                    opts=child,
                    **rule.source,
                )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=group.id,
            description="images, model weights, SSM",
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            tags=tags,
            opts=child,
        )

        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "subnet_id": self.subnet_id,
                "security_group_id": self.security_group_id,
                "router_security_group_id": self.router_security_group_id,
                "load_balancer_security_group_id": self.load_balancer_security_group_id,
            }
        )

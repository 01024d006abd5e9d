"""Domain mode: the router under a name of a Route53 hosted zone, behind a network load
balancer whose TLS listener holds an ACM certificate validated through DNS
(docs/reference/https.md, "AWS side for the domain mode")."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tags import stack_tags
from config.settings import DOMAIN_PORT, RouterDomainConfig
from renderers.litellm import ROUTER_HEALTH_PATH

SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 only. Set explicitly: the API's default (ELBSecurityPolicy-2016-08)
still allows TLS 1.0."""
HEALTH_CHECK = {
    "protocol": "HTTPS",
    "path": ROUTER_HEALTH_PATH,
    "interval": 10,
    "healthy_threshold": 2,
    "unhealthy_threshold": 2,
}
"""The router's own liveness route over its TLS port (the load balancer does not validate
the router's self-signed certificate)."""


@dataclass(frozen=True)
class RouterDomainArgs:
    domain: RouterDomainConfig
    stack: str
    router_port: int
    router_instance_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    """The load balancer's group: HTTPS from the allowed CIDRs (components/network.py)."""


class RouterDomain(pulumi.ComponentResource):
    """ACM certificate + DNS validation record, NLB (created with its security group, which
    an NLB cannot gain later) with a TLS listener on 443 forwarding over TLS to the router
    instance, and an alias record for the name."""

    url: pulumi.Output[str]
    """`https://<name>/v1`."""

    def __init__(
        self, name: str, args: RouterDomainArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("metis-llm:domain:RouterDomain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        domain, tags = args.domain, stack_tags(args.stack, "router-domain")

        certificate = aws.acm.Certificate(
            f"{name}-cert", domain_name=domain.name, validation_method="DNS", tags=tags, opts=child
        )
        # One name, no SANs: exactly one validation option, so the resource count is static.
        option = certificate.domain_validation_options[0]
        validation_record = aws.route53.Record(
            f"{name}-cert-validation",
            zone_id=domain.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=60,
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-cert-issued",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=child,
        )
        balancer = aws.lb.LoadBalancer(
            f"{name}-nlb",
            load_balancer_type="network",
            internal=False,
            subnets=[args.subnet_id],
            security_groups=[args.security_group_id],
            tags=tags,
            opts=child,
        )
        targets = aws.lb.TargetGroup(
            f"{name}-targets",
            port=args.router_port,
            protocol="TLS",
            target_type="instance",
            vpc_id=args.vpc_id,
            health_check=HEALTH_CHECK,
            tags=tags,
            opts=child,
        )
        aws.lb.TargetGroupAttachment(
            f"{name}-router",
            target_group_arn=targets.arn,
            target_id=args.router_instance_id,
            port=args.router_port,
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=balancer.arn,
            port=DOMAIN_PORT,
            protocol="TLS",
            certificate_arn=validation.certificate_arn,
            ssl_policy=SSL_POLICY,
            default_actions=[{"type": "forward", "target_group_arn": targets.arn}],
            tags=tags,
            opts=child,
        )
        aws.route53.Record(
            f"{name}-alias",
            zone_id=domain.hosted_zone_id,
            name=domain.name,
            type="A",
            aliases=[
                {
                    "name": balancer.dns_name,
                    "zone_id": balancer.zone_id,
                    "evaluate_target_health": True,
                }
            ],
            opts=child,
        )
        self.url = pulumi.Output.from_input(f"https://{domain.name}/v1")
        self.register_outputs({"url": self.url})

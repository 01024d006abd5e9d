"""The stack's discovery record: an SSM parameter `python -m ops` reads (renderers/discovery.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tags import stack_tags
from config.discovery import parameter_name
from config.settings import Settings
from renderers.discovery import render_discovery, tier


@dataclass(frozen=True)
class DiscoveryArgs:
    settings: Settings
    stack: str
    router_url: pulumi.Input[str]
    router_ca_certificate: pulumi.Input[str]
    """The stack's CA (PEM), empty when clients need none."""


class Discovery(pulumi.ComponentResource):
    """`/metis-llm/<stack>/discovery`, a plain (non-secret) String parameter."""

    parameter_name: str

    def __init__(self, name: str, args: DiscoveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:discovery:Discovery", name, None, opts)
        self.parameter_name = parameter_name(args.stack)
        record = pulumi.Output.all(args.router_url, args.router_ca_certificate).apply(
            lambda values: render_discovery(args.settings, args.stack, *values)
        )
        aws.ssm.Parameter(
            f"{name}-record",
            name=self.parameter_name,
            type="String",
            tier=record.apply(tier),
            description=f"metis-llm {args.stack}: what `python -m ops` needs beyond the tags",
            insecure_value=record,
            tags=stack_tags(args.stack, "discovery"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"parameter_name": self.parameter_name})

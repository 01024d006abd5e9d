"""One machine of the stack: the EC2 instance, its readiness check and its Docker provider."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_command as command
import pulumi_docker as docker

from components.spot import SpotOrOnDemandInstance
from components.tags import host_name_tag, stack_tags
from config.catalog import InstanceSpec
from config.settings import AccessConfig, HostConfig
from renderers.cloud_init import HostRole, render_cloud_init
from renderers.remote_access import (
    docker_host,
    readiness_script,
    ssh_argv,
    ssh_destination,
    ssh_options,
)

AMI_PARAMETERS: dict[HostRole, str] = {
    "gpu": "/aws/service/deeplearning/ami/x86_64/"
    "base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id",
    "cpu": "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
}
"""GPU hosts: the Deep Learning Base OSS Nvidia Driver GPU AMI (driver, Docker and the
NVIDIA container toolkit preinstalled). CPU-only router hosts: plain Ubuntu."""

ROOT_VOLUME = {"volume_type": "gp3", "throughput": 500, "iops": 4000}
"""Provisioned above gp3's 125 MiB/s baseline: pulling a 20 GiB image and loading weights
is disk-bound."""


@dataclass(frozen=True)
class HostArgs:
    host: str
    """The host's name in the stack config."""
    config: HostConfig
    instance: InstanceSpec
    access: AccessConfig
    stack: str
    subnet_id: pulumi.Input[str]
    placement_pinned: bool
    """The subnet was named in the config: a change of it moves the host (a replacement).
    Otherwise it was chosen from AWS's offerings, and a later choice never moves the host."""
    security_group_ids: Sequence[pulumi.Input[str]]
    key_name: pulumi.Input[str]
    instance_profile: pulumi.Input[str] | None
    region: pulumi.Input[str]
    stable_address: bool = False
    """Give the host an Elastic IP (the router's URL must survive a stop/start)."""

    @property
    def role(self) -> HostRole:
        return "gpu" if self.instance.has_gpu else "cpu"


class Host(pulumi.ComponentResource):
    """An EC2 instance with IMDSv2 required and an encrypted gp3 root volume, a readiness
    step that waits for its bootstrap and checks Docker (and the GPUs), and a Docker
    provider over SSH whose host only resolves once that check passed."""

    instance_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    instance_type: str
    private_ip: pulumi.Output[str]
    market: pulumi.Output[str]
    """on-demand, or for a spot host what it got: spot, or on-demand after a fallback."""
    public_ip: pulumi.Output[str]
    readiness: pulumi.Output[str]
    """What the readiness check printed: Docker's version and the GPUs."""
    ssh_argv: pulumi.Output[list[str]]
    """`ssh <options> <destination>`, as the readiness check and the Docker provider use it."""
    docker_provider: docker.Provider

    def __init__(self, name: str, args: HostArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:host:Host", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {
            **stack_tags(args.stack, f"{args.role}-host"),
            "Name": host_name_tag(args.stack, args.host),
        }
        ami = aws.ssm.get_parameter_output(
            name=AMI_PARAMETERS[args.role], opts=pulumi.InvokeOutputOptions(parent=self)
        )

        launch = {
            "ami": ami.value,
            "instance_type": args.config.instance_type,
            "subnet_id": args.subnet_id,
            "vpc_security_group_ids": list(args.security_group_ids),
            "associate_public_ip_address": True,
            "key_name": args.key_name,
            "iam_instance_profile": args.instance_profile,
            "metadata_options": {
                "http_endpoint": "enabled",
                "http_tokens": "required",
                # 1 hop: containers (one hop further) cannot reach the instance's credentials.
                "http_put_response_hop_limit": 1,
            },
            "root_block_device": {
                **ROOT_VOLUME,
                "volume_size": args.config.disk_gib,
                "encrypted": True,
                "delete_on_termination": True,
                "tags": tags,
            },
            "user_data": render_cloud_init(args.role),
            "tags": tags,
        }
        instance = (
            _spot_or_on_demand(f"{name}-instance", launch, args, self)
            if args.config.spot
            else aws.ec2.Instance(
                f"{name}-instance",
                **launch,
                user_data_replace_on_change=True,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=_kept_on_change(args)),
            )
        )
        self.instance_id = instance.id
        self.arn = instance.arn
        self.instance_type = args.config.instance_type
        self.private_ip = instance.private_ip
        self.market = (
            instance.market
            if isinstance(instance, SpotOrOnDemandInstance)
            else pulumi.Output.from_input("on-demand")
        )
        if args.stable_address:
            address = aws.ec2.Eip(
                f"{name}-eip", domain="vpc", instance=instance.id, tags=tags, opts=child
            )
            self.public_ip = address.public_ip
        else:
            self.public_ip = instance.public_ip

        self.ssh_argv = pulumi.Output.all(args.region, instance.id, self.public_ip).apply(
            lambda values: ssh_argv(args.access, *values)
        )
        ready = command.local.Command(
            f"{name}-ready",
            create=self.ssh_argv.apply(lambda argv: readiness_script(argv, args.role)),
            interpreter=["/bin/bash", "-c"],
            triggers=[instance.id],
            opts=child,
        )
        self.readiness = ready.stdout

        # A provider ignores depends_on: its host must itself wait for the readiness check.
        destination = pulumi.Output.all(instance.id, self.public_ip).apply(
            lambda ids: ssh_destination(args.access, ids[0], ids[1])
        )
        self.docker_provider = docker.Provider(
            f"{name}-docker",
            host=pulumi.Output.all(ready.stdout, destination).apply(lambda v: docker_host(v[1])),
            ssh_opts=pulumi.Output.all(args.region, instance.id).apply(
                lambda values: ssh_options(args.access, *values)
            ),
            opts=child,
        )

        self.register_outputs(
            {
                "instance_id": self.instance_id,
                "private_ip": self.private_ip,
                "public_ip": self.public_ip,
                "readiness": self.readiness,
                "ssh_argv": self.ssh_argv,
            }
        )


def _kept_on_change(args: HostArgs) -> list[str]:
    """Inputs whose later changes leave the instance as it is. A newer AMI must not
    silently replace a host (`pulumi up --replace` does); nor must a subnet chosen anew from
    AWS's offerings move it: that would replace every host and lose its model cache.

    Nor a refresh while a host is stopped: AWS's provider reads `associate_public_ip_address`
    as whether the network interface has a public address now (false for a stopped host
    without an Elastic IP), and the input forces a new instance, so the next `pulumi up`
    would replace the host (docs/reference/idle-cost.md, "State of a stopped stack")."""
    kept = ["ami", "associate_public_ip_address"]
    return kept if args.placement_pinned else [*kept, "subnet_id"]


def _spot_or_on_demand(
    name: str, launch: dict[str, Any], args: HostArgs, parent: pulumi.Resource
) -> SpotOrOnDemandInstance:
    """A spot host, launched by the resource that falls back to on-demand (components/spot.py),
    with aws.ec2.Instance's inputs under its names, so the policy pack checks it alike."""
    return SpotOrOnDemandInstance(
        name,
        {**_camel(launch), "region": args.region},
        opts=pulumi.ResourceOptions(
            parent=parent, ignore_changes=[_camel_name(key) for key in _kept_on_change(args)]
        ),
    )


def _camel_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel(inputs: dict[str, Any]) -> dict[str, Any]:
    """Input names as the engine holds aws.ec2.Instance's (tag keys left as they are)."""
    return {
        _camel_name(key): _camel(value) if isinstance(value, dict) and key != "tags" else value
        for key, value in inputs.items()
    }

"""Idle stop: the activity publisher on the router host, and an alarm per host that stops it
with EC2's own stop action."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.containers import instance_label
from components.host import Host
from components.router import Router
from components.tags import stack_tags
from config.settings import Settings
from renderers.idle_stop import (
    CONFIG_PATH,
    PROGRAM_PATH,
    PUBLISHER_COMMAND,
    PUBLISHER_CONTAINER,
    PUBLISHER_ENTRYPOINT,
    idle_alarm,
    publisher_config,
    publisher_program,
    render_publisher_config,
    stop_action,
)


@dataclass(frozen=True)
class IdleStopArgs:
    settings: Settings
    minutes: int
    hosts: Mapping[str, Host]
    router: Router
    region: pulumi.Input[str]
    stack: str


class IdleStop(pulumi.ComponentResource):
    """The publisher runs in the router's own image with host networking (it reaches the
    instance role through the metadata service, which bridged containers cannot) and
    publishes no port. Each host's alarm watches that host's datapoints."""

    publisher: docker.Container

    def __init__(self, name: str, args: IdleStopArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:idle:IdleStop", name, None, opts)
        settings, hosts = args.settings, args.hosts
        router_host = hosts[settings.router.host]
        minutes = args.minutes

        config = pulumi.Output.all(
            private_ips=pulumi.Output.all(**{h: host.private_ip for h, host in hosts.items()}),
            instance_ids=pulumi.Output.all(*(host.instance_id for host in hosts.values())),
            region=args.region,
        ).apply(
            lambda v: publisher_config(settings, v["private_ips"], v["instance_ids"], v["region"])
        )
        self.publisher = docker.Container(
            f"{name}-publisher",
            name=PUBLISHER_CONTAINER,
            image=args.router.image_id,
            entrypoints=PUBLISHER_ENTRYPOINT,
            command=PUBLISHER_COMMAND,
            uploads=[
                docker.ContainerUploadArgs(file=PROGRAM_PATH, content=publisher_program()),
                docker.ContainerUploadArgs(
                    file=CONFIG_PATH, content=config.apply(render_publisher_config)
                ),
            ],
            network_mode="host",
            labels=[instance_label(router_host.instance_id)],
            restart="unless-stopped",
            must_run=True,
            opts=pulumi.ResourceOptions(parent=self, provider=router_host.docker_provider),
        )

        for host_name, host in hosts.items():
            aws.cloudwatch.MetricAlarm(
                f"{name}-{host_name}",
                alarm_description=(
                    f"metis-llm {args.stack}: stop {host_name} after {minutes} minutes "
                    "without a request anywhere in the stack"
                ),
                dimensions={"InstanceId": host.instance_id},
                alarm_actions=[pulumi.Output.from_input(args.region).apply(stop_action)],
                tags=stack_tags(args.stack, "idle-stop"),
                opts=pulumi.ResourceOptions(parent=self),
                **idle_alarm(minutes),
            )
        self.register_outputs({"publisher_id": self.publisher.id})

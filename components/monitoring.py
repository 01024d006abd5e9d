"""Monitoring: Prometheus and Grafana on the router host, exporters on every host.

Nothing here is reachable from outside. Prometheus and Grafana share the router host's
network namespace (so Prometheus reaches every target as the host does) and listen on
127.0.0.1 only; no security group rule names their ports. The exporters listen on their
host's private IP, open to the stack's own group only. Users reach Grafana through a port
forward (`python -m ops dashboard STACK`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.containers import container_options, healthcheck, instance_label, pinned_image
from components.host import Host
from config.ports import DCGM_EXPORTER_PORT, GRAFANA_PORT, NODE_EXPORTER_PORT, PROMETHEUS_PORT
from config.settings import Settings
from renderers import exporters, grafana, prometheus
from renderers.alerts import render_alert_rules
from renderers.dashboards import render_dashboards
from renderers.probes import HttpProbe

PASSWORD_LENGTH = 32
READY_TIMEOUT_SECONDS = 300
"""`pulumi up` waits this long for each monitoring container to answer its health check."""


def _uploads(files: Mapping[str, pulumi.Input[str]]) -> list[docker.ContainerUploadArgs]:
    return [docker.ContainerUploadArgs(file=path, content=text) for path, text in files.items()]


def _container(
    resource: str,
    image: str,
    host: Host,
    on_host: pulumi.ResourceOptions,
    *,
    probe: pulumi.Input[HttpProbe] | None = None,
    data: tuple[str, str] | None = None,
    after: Sequence[pulumi.Resource] = (),
    **container: Any,
) -> docker.Container:
    """A monitoring container on a host, from its image pinned there, recreated with its
    host and restarted unless stopped. With a `probe`, a health check `pulumi up` waits
    for; with `data` (a volume name and a path in the container), a named volume there: it
    outlives container replacements, and Docker initialises it with the image's directory
    and its owner (the images run as a non-root user)."""
    if probe is not None:
        container |= {
            "healthcheck": pulumi.Output.from_input(probe).apply(healthcheck),
            "wait": True,
            "wait_timeout": READY_TIMEOUT_SECONDS,
        }
    if data is not None:
        volume, path = data
        stored = docker.Volume(f"{resource}-data", name=volume, opts=on_host)
        container["volumes"] = [
            docker.ContainerVolumeArgs(volume_name=stored.name, container_path=path)
        ]
    return docker.Container(
        resource,
        image=pinned_image(f"{resource}-image", image, host.instance_id, on_host).image_id,
        labels=[instance_label(host.instance_id)],
        restart="unless-stopped",
        must_run=True,
        opts=on_host
        if probe is None
        else container_options(on_host, READY_TIMEOUT_SECONDS, after=after),
        **container,
    )


@dataclass(frozen=True)
class MonitoringArgs:
    settings: Settings
    host: Host
    """The router host."""
    private_ips: Mapping[str, pulumi.Input[str]]
    router_key: pulumi.Input[str]
    """What Prometheus sends to scrape the router's /metrics/."""
    router_ca: pulumi.Input[str] | None
    """The CA the router's certificate chains to; None when it serves plain HTTP."""


class Monitoring(pulumi.ComponentResource):
    """Pinned Prometheus and Grafana images and their containers on the router host, their
    data in named volumes, their configs uploaded, a generated Grafana admin password."""

    grafana_admin_password: pulumi.Output[str]
    """Secret; Grafana's user is `admin`."""
    containers: list[docker.Container]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:monitoring:Monitoring", name, None, opts)
        settings, host = args.settings, args.host
        images = settings.monitoring.images
        on_host = pulumi.ResourceOptions(parent=self, provider=host.docker_provider)
        password = random.RandomPassword(
            f"{name}-grafana-admin",
            length=PASSWORD_LENGTH,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)

        config_text = pulumi.Output.all(
            router_address=host.public_ip, private_ips=pulumi.Output.all(**args.private_ips)
        ).apply(lambda values: prometheus.render_prometheus_config(settings, **values))
        uploads: dict[str, pulumi.Input[str]] = {
            prometheus.CONFIG_FILE: config_text,
            prometheus.RULES_FILE: render_alert_rules(settings),
            prometheus.ROUTER_KEY_FILE: args.router_key,
        }
        if args.router_ca is not None:
            uploads[prometheus.ROUTER_CA_FILE] = args.router_ca
        prometheus_container = _container(
            f"{name}-prometheus",
            images.prometheus,
            host,
            on_host,
            probe=HttpProbe(PROMETHEUS_PORT, "/-/ready", client="wget"),
            data=("metis-llm-prometheus", prometheus.DATA_DIR),
            name=prometheus.CONTAINER_NAME,
            command=prometheus.prometheus_command(settings),
            network_mode="host",
            uploads=_uploads(
                {f"{prometheus.CONFIG_DIR}/{file}": text for file, text in uploads.items()}
            ),
        )
        dashboards = {
            f"{grafana.DASHBOARDS_DIR}/{file}": text for file, text in render_dashboards().items()
        }
        grafana_container = _container(
            f"{name}-grafana",
            images.grafana,
            host,
            on_host,
            probe=HttpProbe(GRAFANA_PORT, "/api/health", client="wget"),
            data=("metis-llm-grafana", grafana.DATA_DIR),
            after=[prometheus_container],
            name=grafana.CONTAINER_NAME,
            envs=[f"{key}={value}" for key, value in grafana.grafana_env().items()],
            network_mode="host",
            uploads=_uploads(
                {
                    **grafana.render_provisioning(),
                    **dashboards,
                    grafana.ADMIN_PASSWORD_FILE: self.grafana_admin_password,
                }
            ),
        )
        self.containers = [prometheus_container, grafana_container]
        self.register_outputs({"grafana_admin_password": self.grafana_admin_password})


@dataclass(frozen=True)
class HostExportersArgs:
    settings: Settings
    host: Host
    has_gpu: bool


class HostExporters(pulumi.ComponentResource):
    """node-exporter on a host, and dcgm-exporter on a GPU host, each listening on the host's
    private IP only."""

    containers: list[docker.Container]

    def __init__(
        self, name: str, args: HostExportersArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("metis-llm:monitoring:HostExporters", name, None, opts)
        images, host = args.settings.monitoring.images, args.host
        on_host = pulumi.ResourceOptions(parent=self, provider=host.docker_provider)

        # Host networking and the host's process table: the host's own network and process
        # counters, not a container's. It listens on the private IP only (its command).
        node = _container(
            f"{name}-node-exporter",
            images.node_exporter,
            host,
            on_host,
            probe=host.private_ip.apply(
                lambda ip: HttpProbe(NODE_EXPORTER_PORT, "/metrics", client="wget", address=ip)
            ),
            name=exporters.NODE_EXPORTER_CONTAINER,
            command=host.private_ip.apply(exporters.node_exporter_command),
            network_mode="host",
            pid_mode="host",
            mounts=[
                docker.ContainerMountArgs(
                    target=exporters.HOST_ROOT,
                    source="/",
                    type="bind",
                    read_only=True,
                    bind_options=docker.ContainerMountBindOptionsArgs(propagation="rslave"),
                )
            ],
        )
        self.containers = [node]
        if args.has_gpu:
            # The distroless image has no shell and no HTTP client: no health check, and
            # `pulumi up` does not wait for it (Prometheus's `up` shows whether it answers).
            self.containers.append(
                _container(
                    f"{name}-dcgm-exporter",
                    images.dcgm_exporter,
                    host,
                    on_host,
                    name=exporters.DCGM_EXPORTER_CONTAINER,
                    gpus="all",
                    envs=[f"{k}={v}" for k, v in exporters.dcgm_exporter_env().items()],
                    ports=[
                        docker.ContainerPortArgs(
                            internal=DCGM_EXPORTER_PORT,
                            external=DCGM_EXPORTER_PORT,
                            ip=host.private_ip,
                        )
                    ],
                    uploads=_uploads(
                        {exporters.DCGM_COUNTERS_PATH: exporters.render_dcgm_counters()}
                    ),
                )
            )
        self.register_outputs({"containers": [c.id for c in self.containers]})


@dataclass(frozen=True)
class StackMonitoring:
    """What the backend keeps of its monitoring."""

    grafana_admin_password: pulumi.Output[str]
    containers: dict[str, list[docker.Container]]
    """By host: each host's monitoring containers (their images must outlive the prune)."""


def monitor_stack(
    name: str,
    settings: Settings,
    hosts: Mapping[str, Host],
    router_key: pulumi.Input[str],
    router_ca: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> StackMonitoring:
    """Exporters on every host, Prometheus and Grafana on the router host (`router_ca`: the
    CA the router's certificate chains to, None when it serves plain HTTP)."""
    containers = {
        host: HostExporters(
            f"{name}-{host}-exporters",
            HostExportersArgs(
                settings=settings,
                host=machine,
                has_gpu=exporters.runs_dcgm_exporter(settings, host),
            ),
            opts,
        ).containers
        for host, machine in hosts.items()
    }
    monitoring = Monitoring(
        f"{name}-monitoring",
        MonitoringArgs(
            settings=settings,
            host=hosts[settings.router.host],
            private_ips={host: machine.private_ip for host, machine in hosts.items()},
            router_key=router_key,
            router_ca=router_ca,
        ),
        opts,
    )
    containers[settings.router.host] += monitoring.containers
    return StackMonitoring(monitoring.grafana_admin_password, containers)

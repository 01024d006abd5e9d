"""The whole backend of one stack, wired from its settings."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_command as command

from components.access import HostAccess, HostAccessArgs
from components.discovery import Discovery, DiscoveryArgs
from components.host import Host, HostArgs
from components.idle_stop import IdleStop, IdleStopArgs
from components.keys import ApiKeys
from components.monitoring import monitor_stack
from components.network import Network, NetworkArgs
from components.review_readiness import ReviewReadiness, ReviewReadinessArgs
from components.router import Router, RouterArgs
from components.router_domain import RouterDomain, RouterDomainArgs
from components.router_tls import RouterTls, RouterTlsArgs
from components.schedule import WorkingHours, WorkingHoursArgs
from components.vllm_server import VllmServer, VllmServerArgs
from config.services import CHAT, SERVICES, ServiceKey
from config.settings import Settings
from renderers.certificates import server_names
from renderers.cost import hourly_cost, monthly_cost
from renderers.metis import render_metis_config
from renderers.remote_access import prune_images_script
from renderers.vllm import started_before, vllm_server


class LlmBackend(pulumi.ComponentResource):
    """Hosts, vLLM replicas (one per host a service lists) and the LiteLLM router in front
    of them, checked to answer Metis's review calls, with what Metis needs as attributes."""

    router_url: pulumi.Output[str]
    router_ca_certificate: pulumi.Output[str]
    """The CA (PEM) clients trust the router with; empty when they need none (domain mode:
    a public certificate; plain HTTP)."""
    api_key: pulumi.Output[str]
    """The router key (secret)."""
    metis_config: pulumi.Output[str]
    litellm_config: pulumi.Output[str]
    hosts: pulumi.Output[dict[str, dict[str, str]]]
    """Per host: instance id, instance type, private and public IP, market."""
    hourly_cost_usd: float
    monthly_cost_usd: dict[str, float | None]
    """Always on, and within the schedule's hours (with its hours a week)."""
    grafana_admin_password: pulumi.Output[str] | None
    """Secret; None without monitoring."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        stack: str,
        hf_token: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("metis-llm:backend:LlmBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        network = Network(f"{name}-net", NetworkArgs(settings=settings, stack=stack), child)
        access = HostAccess(
            f"{name}-access",
            HostAccessArgs(
                access=settings.access,
                stack=stack,
                publishes_activity=settings.idle_stop is not None,
            ),
            child,
        )
        keys = ApiKeys(f"{name}-keys", child)

        hosts = {
            host: Host(
                f"{name}-{host}",
                HostArgs(
                    host=host,
                    config=config,
                    instance=settings.catalog.instances[config.instance_type],
                    access=settings.access,
                    stack=stack,
                    subnet_id=config.subnet_id or network.subnet_id,
                    placement_pinned=bool(config.subnet_id or settings.network.subnet_id),
                    security_group_ids=[
                        network.security_group_id,
                        *(
                            [network.router_security_group_id]
                            if host == settings.router.host
                            else []
                        ),
                    ],
                    key_name=access.key_name,
                    instance_profile=access.instance_profile,
                    region=region,
                    stable_address=_needs_elastic_ip(settings, host),
                ),
                child,
            )
            for host, config in settings.hosts.items()
        }

        servers: dict[tuple[ServiceKey, str], VllmServer] = {}
        for service in SERVICES:
            for host in settings.services[service].hosts:
                servers[service, host] = VllmServer(
                    f"{name}-{service}-{host}",
                    VllmServerArgs(
                        spec=vllm_server(settings, service),
                        host=hosts[host],
                        backend_key=keys.backend_key,
                        hf_token=hf_token,
                        start_after=[
                            servers[other, host]
                            for other in started_before(settings, service, host)
                        ],
                    ),
                    child,
                )

        router_host = hosts[settings.router.host]
        tls = None
        if not settings.router.plain_http:
            tls = RouterTls(
                f"{name}-tls",
                RouterTlsArgs(
                    stack=stack,
                    names=pulumi.Output.all(router_host.public_ip, region).apply(
                        lambda values: server_names(*values)
                    ),
                ),
                child,
            )
        router = Router(
            f"{name}-router",
            RouterArgs(
                settings=settings,
                host=router_host,
                private_ips={host: hosts[host].private_ip for host in hosts},
                router_key=keys.router_key,
                backend_key=keys.backend_key,
                backends=list(servers.values()),
                tls=tls,
            ),
            child,
        )
        router_url = router.url
        if settings.router.domain and network.load_balancer_security_group_id is not None:
            router_url = RouterDomain(
                f"{name}-domain",
                RouterDomainArgs(
                    domain=settings.router.domain,
                    stack=stack,
                    router_port=settings.router.port,
                    router_instance_id=router_host.instance_id,
                    vpc_id=network.vpc_id,
                    subnet_id=settings.hosts[settings.router.host].subnet_id or network.subnet_id,
                    security_group_id=network.load_balancer_security_group_id,
                ),
                child,
            ).url
        ReviewReadiness(
            f"{name}-review-ready",
            ReviewReadinessArgs(
                settings=settings,
                router_host=router_host,
                router=router,
                chat_servers=[servers[CHAT.key, host] for host in settings.chat.hosts],
            ),
            child,
        )

        monitoring = (
            monitor_stack(
                name, settings, hosts, keys.router_key, tls.ca_cert_pem if tls else None, child
            )
            if settings.monitoring.enabled
            else None
        )

        # After every update, the images no container uses go: each vLLM image is 25-35 GB.
        for host, machine in hosts.items():
            on_host = [server.container for (_, at), server in servers.items() if at == host]
            if host == settings.router.host:
                on_host.append(router.container)
            if monitoring is not None:
                on_host += monitoring.containers[host]
            command.local.Command(
                f"{name}-{host}-prune-images",
                create=machine.ssh_argv.apply(prune_images_script),
                interpreter=["/bin/bash", "-c"],
                triggers=[container.id for container in on_host],
                opts=pulumi.ResourceOptions(parent=self, depends_on=on_host),
            )

        if settings.schedule is not None:
            WorkingHours(
                f"{name}-hours",
                WorkingHoursArgs(schedule=settings.schedule, hosts=hosts, stack=stack),
                child,
            )
        if settings.idle_stop is not None:
            IdleStop(
                f"{name}-idle",
                IdleStopArgs(
                    settings=settings,
                    minutes=settings.idle_stop.minutes,
                    hosts=hosts,
                    router=router,
                    region=region,
                    stack=stack,
                ),
                child,
            )
        self.router_url = router_url
        self.router_ca_certificate = (
            tls.ca_cert_pem if tls and not settings.router.domain else pulumi.Output.from_input("")
        )
        Discovery(
            f"{name}-discovery",
            DiscoveryArgs(
                settings=settings,
                stack=stack,
                router_url=router_url,
                router_ca_certificate=self.router_ca_certificate,
            ),
            child,
        )

        self.api_key = keys.router_key
        self.metis_config = router_url.apply(lambda url: render_metis_config(settings, url))
        self.litellm_config = router.config_text
        self.hosts = pulumi.Output.all(
            **{
                host: pulumi.Output.all(
                    instance_id=machine.instance_id,
                    instance_type=machine.instance_type,
                    private_ip=machine.private_ip,
                    market=machine.market,
                    public_ip=machine.public_ip,
                )
                for host, machine in hosts.items()
            }
        )
        self.hourly_cost_usd = hourly_cost(settings).total
        monthly = monthly_cost(settings)
        self.monthly_cost_usd = {
            "always_on": monthly.always_on,
            "scheduled": monthly.scheduled,
            "scheduled_hours_per_week": monthly.hours_per_week,
        }
        self.grafana_admin_password = monitoring.grafana_admin_password if monitoring else None
        self.register_outputs(
            {
                "router_url": self.router_url,
                "router_ca_certificate": self.router_ca_certificate,
                "api_key": self.api_key,
                "metis_config": self.metis_config,
                "litellm_config": self.litellm_config,
                "hosts": self.hosts,
                "hourly_cost_usd": self.hourly_cost_usd,
                "monthly_cost_usd": self.monthly_cost_usd,
                "grafana_admin_password": self.grafana_admin_password,
            }
        )


def _needs_elastic_ip(settings: Settings, host: str) -> bool:
    """The router's URL must survive a stop/start; and in ssh mode `pulumi up` reaches every
    host at its public IP, which a stop/start (a schedule, the idle stop, a spot
    interruption) would change for a host without an Elastic IP."""
    can_stop = settings.stops or settings.hosts[host].spot
    return host == settings.router.host or (settings.access.mode == "ssh" and can_stop)

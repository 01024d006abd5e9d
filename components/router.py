"""The LiteLLM router: the stack's one public endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.containers import (
    container_options,
    healthcheck,
    instance_label,
    pinned_image,
    secret_envs,
)
from components.host import Host
from components.router_tls import RouterTls
from config.settings import Settings
from renderers.certificates import CA_FILE, CERT_FILE, KEY_FILE
from renderers.litellm import (
    CONFIG_PATH,
    CONTAINER_NAME,
    MASTER_KEY_ENV,
    PLAIN_ENV,
    ROUTER_BACKEND_KEY_ENV,
    litellm_command,
    render_litellm_config,
    router_health_probe,
)

READY_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class RouterArgs:
    settings: Settings
    host: Host
    private_ips: Mapping[str, pulumi.Input[str]]
    """Private IP of every host by name: where the router finds the vLLM replicas."""
    router_key: pulumi.Input[str]
    backend_key: pulumi.Input[str]
    backends: Sequence[pulumi.Resource]
    """The vLLM servers: the router starts after they are healthy."""
    tls: RouterTls | None
    """The certificate it serves; None only when plain HTTP was asked for."""


def tls_uploads(tls: RouterTls) -> list[docker.ContainerUploadArgs]:
    """The CA, the certificate and the key as files in the container. Uploads travel through
    the Docker API over the provider's SSH connection, so the key is on no command line; it
    stays a secret in state (a secret input keeps its resource property secret). A new
    certificate changes an upload, which replaces the container (uploads are ForceNew):
    the router reads its certificate at start only."""
    return [
        docker.ContainerUploadArgs(file=CA_FILE, content=tls.ca_cert_pem),
        docker.ContainerUploadArgs(file=CERT_FILE, content=tls.cert_pem),
        docker.ContainerUploadArgs(file=KEY_FILE, content=pulumi.Output.secret(tls.key_pem)),
    ]


class Router(pulumi.ComponentResource):
    """A pinned LiteLLM image and its container: the rendered config uploaded into it, both
    keys by environment, the router port published for the security group to filter."""

    url: pulumi.Output[str]
    """`https://<Elastic IP>:<port>/v1` (`http://` when plain HTTP was asked for)."""
    config_text: pulumi.Output[str]
    """The rendered router config (no secret values in it)."""
    container: docker.Container
    """Its id changes whenever the router is replaced; the review probe re-runs then."""
    image_id: pulumi.Output[str]
    """The pinned router image on its host (Python with boto3, which other containers use)."""

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:router:Router", name, None, opts)
        settings, host = args.settings, args.host
        port = settings.router.port
        on_host = pulumi.ResourceOptions(parent=self, provider=host.docker_provider)

        self.config_text = pulumi.Output.all(**args.private_ips).apply(
            lambda ips: render_litellm_config(settings, ips)
        )
        image = pinned_image(f"{name}-image", settings.images.litellm, host.instance_id, on_host)
        self.image_id = image.image_id
        self.container = docker.Container(
            f"{name}-container",
            name=CONTAINER_NAME,
            image=image.image_id,
            command=litellm_command(settings),
            envs=secret_envs(
                PLAIN_ENV,
                {MASTER_KEY_ENV: args.router_key, ROUTER_BACKEND_KEY_ENV: args.backend_key},
            ),
            ports=[docker.ContainerPortArgs(internal=port, external=port)],
            uploads=[
                docker.ContainerUploadArgs(file=CONFIG_PATH, content=self.config_text),
                *(tls_uploads(args.tls) if args.tls else []),
            ],
            healthcheck=healthcheck(router_health_probe(settings)),
            labels=[instance_label(host.instance_id)],
            restart="unless-stopped",
            must_run=True,
            wait=True,
            wait_timeout=READY_TIMEOUT_SECONDS,
            opts=container_options(on_host, READY_TIMEOUT_SECONDS, after=args.backends),
        )
        scheme = "https" if args.tls else "http"
        self.url = pulumi.Output.format("{0}://{1}:{2}/v1", scheme, host.public_ip, port)
        self.register_outputs(
            {"url": self.url, "config_text": self.config_text, "container_id": self.container.id}
        )

"""Review readiness: `pulumi up` fails unless the chat model answers Metis's review calls."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.host import Host
from components.router import Router
from components.vllm_server import VllmServer
from config.settings import Settings
from renderers.review_probe import review_probe_script


@dataclass(frozen=True)
class ReviewReadinessArgs:
    settings: Settings
    router_host: Host
    router: Router
    chat_servers: Sequence[VllmServer]


class ReviewReadiness(pulumi.ComponentResource):
    """One forced function call through the router, from inside the router container over
    SSH (renderers/review_probe.py). It runs once the router is up, and again whenever the
    chat model, a chat container or the router's container or config changes."""

    report: pulumi.Output[str]
    """What the probe printed: the model answered with a valid function call."""

    def __init__(
        self, name: str, args: ReviewReadinessArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("metis-llm:review:ReviewReadiness", name, None, opts)
        settings = args.settings
        probe = command.local.Command(
            f"{name}-probe",
            create=args.router_host.ssh_argv.apply(lambda ssh: review_probe_script(ssh, settings)),
            interpreter=["/bin/bash", "-c"],
            triggers=[
                settings.chat.served_name,
                args.router.container.id,
                args.router.config_text.apply(
                    lambda text: "router config sha256:" + hashlib.sha256(text.encode()).hexdigest()
                ),
                *(server.container.id for server in args.chat_servers),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.router, *args.chat_servers]),
        )
        self.report = probe.stdout
        self.register_outputs({"report": self.report})

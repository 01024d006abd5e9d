"""Prometheus on the router host: what it scrapes, how it starts, how long it keeps data.

It runs in the router host's network namespace and listens on 127.0.0.1 only, so it reaches
every target as the host does (the other hosts' private IPs through the stack's own group,
the router on 127.0.0.1) and nothing reaches it from outside. The rendered files use paths
relative to the config file, which Prometheus resolves against the config's directory: the
same text works in the container (/etc/prometheus) and in the tests' temporary folders. The
syntax suits both the pinned image (3.x) and Debian's 2.42 that the tests run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from config.ports import DCGM_EXPORTER_PORT, NODE_EXPORTER_PORT, PROMETHEUS_PORT
from config.settings import Settings
from renderers.exporters import runs_dcgm_exporter
from renderers.litellm import deployments

CONTAINER_NAME = "prometheus"
CONFIG_DIR = "/etc/prometheus"
CONFIG_FILE = "prometheus.yml"
RULES_FILE = "alerts.yml"
ROUTER_KEY_FILE = "router-key"
"""The router key, which LiteLLM 1.108.7 requires on /metrics (docs/reference/observability.md)."""
ROUTER_CA_FILE = "router-ca.pem"
"""The stack's CA, which the router's certificate chains to (renderers/certificates.py)."""
DATA_DIR = "/prometheus"
"""The image's data directory, owned by its user (nobody): a named volume keeps it."""
LISTEN_ADDRESS = f"127.0.0.1:{PROMETHEUS_PORT}"
SCRAPE_INTERVAL = "15s"
LITELLM_METRICS_PATH = "/metrics/"
"""LiteLLM mounts its metrics app at /metrics: /metrics itself answers 307 to /metrics/."""
RETENTION_UNIT = "GB"
"""Prometheus reads sizes in powers of two: `4GB` is 4 GiB (`prometheus --help`)."""


@dataclass(frozen=True)
class Target:
    """One endpoint Prometheus scrapes, with the labels that say what it is."""

    address: str
    labels: dict[str, str] = field(default_factory=dict)


def scrape_targets(settings: Settings, private_ips: Mapping[str, str]) -> dict[str, list[Target]]:
    """Targets by job: every vLLM replica, the router, each host's node-exporter and each GPU
    host's dcgm-exporter. The router is scraped on 127.0.0.1: Prometheus runs on its host."""
    gpu_hosts = [host for host in settings.hosts if runs_dcgm_exporter(settings, host)]
    return {
        "vllm": [
            Target(
                f"{private_ips[d.host]}:{d.port}",
                {"host": d.host, "service": d.service},
            )
            for d in deployments(settings)
        ],
        "litellm": [Target(f"127.0.0.1:{settings.router.port}", {"host": settings.router.host})],
        "dcgm": [
            Target(f"{private_ips[host]}:{DCGM_EXPORTER_PORT}", {"host": host})
            for host in gpu_hosts
        ],
        "node": [
            Target(f"{private_ips[host]}:{NODE_EXPORTER_PORT}", {"host": host})
            for host in settings.hosts
        ],
    }


def _static(targets: list[Target]) -> list[dict[str, Any]]:
    return [{"targets": [target.address], "labels": target.labels} for target in targets]


def _router_scrape(settings: Settings, router_address: str) -> dict[str, Any]:
    """LiteLLM's metrics, behind the router key, over the scheme the router serves. Over
    HTTPS Prometheus checks the chain to the stack's CA and the name: it calls 127.0.0.1,
    which the certificate does not name, so it asks for the router host's public address,
    which it does (renderers/certificates.py, `server_names`)."""
    scrape: dict[str, Any] = {
        "metrics_path": LITELLM_METRICS_PATH,
        "authorization": {"type": "Bearer", "credentials_file": ROUTER_KEY_FILE},
    }
    if not settings.router.plain_http:
        scrape["scheme"] = "https"
        scrape["tls_config"] = {"ca_file": ROUTER_CA_FILE, "server_name": router_address}
    return scrape


def prometheus_config(
    settings: Settings, private_ips: Mapping[str, str], router_address: str
) -> dict[str, Any]:
    """The config for hosts at `private_ips`, the router host's public address
    `router_address`."""
    jobs = scrape_targets(settings, private_ips)
    scrape_configs: list[dict[str, Any]] = []
    for job, targets in jobs.items():
        if not targets:
            continue
        scrape: dict[str, Any] = {"job_name": job}
        if job == "litellm":
            scrape |= _router_scrape(settings, router_address)
        scrape["static_configs"] = _static(targets)
        scrape_configs.append(scrape)
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [RULES_FILE],
        "scrape_configs": scrape_configs,
    }


def render_prometheus_config(
    settings: Settings, private_ips: Mapping[str, str], router_address: str
) -> str:
    return yaml.safe_dump(prometheus_config(settings, private_ips, router_address), sort_keys=False)


def storage_flags(settings: Settings) -> list[str]:
    """Where the data lives and how long it stays: whichever bound is hit first applies."""
    monitoring = settings.monitoring
    return [
        f"--storage.tsdb.path={DATA_DIR}",
        f"--storage.tsdb.retention.time={monitoring.retention_days}d",
        f"--storage.tsdb.retention.size={monitoring.retention_gib}{RETENTION_UNIT}",
    ]


def prometheus_command(settings: Settings) -> list[str]:
    """The container command (the image's ENTRYPOINT is the prometheus binary)."""
    return [
        f"--config.file={CONFIG_DIR}/{CONFIG_FILE}",
        f"--web.listen-address={LISTEN_ADDRESS}",
        *storage_flags(settings),
    ]

"""The stack's topology as a Mermaid flowchart: Metis -> router -> replicas, on their hosts.

Each host is a subgraph holding what runs on it (the router, the vLLM replicas, the
exporters, and on the router host Prometheus and Grafana), so the picture shows both the
request path (edges, labelled with ports), what Prometheus scrapes (dotted) and the placement.
"""

from __future__ import annotations

import re

from config.ports import DCGM_EXPORTER_PORT, GRAFANA_PORT, NODE_EXPORTER_PORT, PROMETHEUS_PORT
from config.settings import Settings
from renderers.exporters import runs_dcgm_exporter
from renderers.litellm import Deployment, deployments


def _node_id(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _label(*lines: str) -> str:
    """A quoted Mermaid label, one `<br/>` per line break."""
    return '"' + "<br/>".join(line.replace('"', "#quot;") for line in lines) + '"'


def _gpus(gpu_ids: range) -> str:
    if len(gpu_ids) == 1:
        return f"GPU {gpu_ids[0]}"
    return f"GPUs {gpu_ids[0]}-{gpu_ids[-1]}"


def _host_label(settings: Settings, host: str) -> str:
    instance_type = settings.hosts[host].instance_type
    spec = settings.instance(host)
    hardware = [instance_type]
    if spec is not None and spec.has_gpu:
        hardware.append(f"{spec.gpu_count}x {spec.gpu_model or 'GPU'} {spec.gib_per_gpu:.1f} GiB")
    return _label(f"host {host}", " · ".join(hardware))


def _replica_node(settings: Settings, deployment: Deployment) -> str:
    service = settings.services[deployment.service]
    lines = [f"{deployment.service} replica", service.model]
    if service.served_name != service.model:
        lines.append(f"served as {service.served_name}")
    lines.append(f"vLLM :{deployment.port} · {_gpus(service.gpu_ids)}")
    return f"{_node_id(deployment.deployment_id)}[{_label(*lines)}]"


def _exporters_node(settings: Settings, host: str) -> str:
    exporters = [f"node-exporter :{NODE_EXPORTER_PORT}"]
    if runs_dcgm_exporter(settings, host):
        exporters.append(f"dcgm-exporter :{DCGM_EXPORTER_PORT}")
    return f"{_node_id('exporters', host)}[{_label(*exporters)}]"


def _monitoring_lines(settings: Settings, host: str) -> list[str]:
    """Prometheus and Grafana on the router host (127.0.0.1 only), exporters on every host."""
    if not settings.monitoring.enabled:
        return []
    lines = [f"        {_exporters_node(settings, host)}"]
    if host == settings.router.host:
        label = _label(
            f"Prometheus :{PROMETHEUS_PORT}", f"Grafana :{GRAFANA_PORT}", "127.0.0.1 only"
        )
        lines.append(f"        monitoring[({label})]")
    return lines


def _scrape_edges(settings: Settings, replicas: list[Deployment]) -> list[str]:
    if not settings.monitoring.enabled:
        return []
    targets = ["router", *(_node_id(d.deployment_id) for d in replicas)]
    targets += [_node_id("exporters", host) for host in settings.hosts]
    return [f"    monitoring -.->|scrape| {target}" for target in targets]


def render_topology(settings: Settings) -> str:
    """Mermaid flowchart text for a stack's validated settings."""
    router = settings.router
    replicas = deployments(settings)
    lines = [
        "flowchart LR",
        f"    metis([{_label('Metis', 'from ' + ', '.join(router.allowed_cidrs))}])",
    ]
    for host in settings.hosts:
        lines.append(f"    subgraph {_node_id('host', host)}[{_host_label(settings, host)}]")
        if host == router.host:
            lines.append(f"        router[[{_label('LiteLLM router', f':{router.port}')}]]")
        lines += [f"        {_replica_node(settings, d)}" for d in replicas if d.host == host]
        lines += _monitoring_lines(settings, host)
        lines.append("    end")
    lines.append(f'    metis -->|"HTTP :{router.port} /v1"| router')
    lines += [f'    router -->|":{d.port} /v1"| {_node_id(d.deployment_id)}' for d in replicas]
    lines += _scrape_edges(settings, replicas)
    return "\n".join(lines) + "\n"

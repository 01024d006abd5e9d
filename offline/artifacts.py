"""The files an offline plan writes: what the program rendered (metis.yaml, the router config,
each host's cloud-init script, the monitoring configs and dashboards) and the topology
diagram."""

from __future__ import annotations

from pathlib import Path

from offline.plan import Plan
from offline.values import Leaf, flatten
from renderers.monitoring_files import monitoring_files
from renderers.topology import render_topology

OUTPUT_FILES = {"metis_config": "metis.yaml", "litellm_config": "litellm-config.yaml"}
"""Stack outputs written as files, by output name."""
CLOUD_INIT_DIR = "cloud-init"
TOPOLOGY_FILE = "topology.mmd"
MONITORING_DIR = "monitoring"


def plan_files(plan: Plan) -> dict[str, str]:
    """File contents by path relative to the output folder. Values go through `Leaf`, so a
    value that became secret would be written as `[secret]`, never revealed."""
    outputs = plan.run.outputs
    files = {
        file: Leaf(outputs[name].value, outputs[name].secret).shown()
        for name, file in OUTPUT_FILES.items()
    }
    # Sorted: the program registers hosts concurrently, so their order varies between runs.
    instances = sorted(plan.run.of_type("aws:ec2/instance:Instance"), key=lambda r: r.name)
    for instance in instances:
        user_data = flatten(instance.inputs)["userData"]
        files[f"{CLOUD_INIT_DIR}/{instance.name}.sh"] = user_data.shown()
    files[TOPOLOGY_FILE] = render_topology(plan.settings)
    if plan.settings.monitoring.enabled:
        hosts = outputs["hosts"].value
        private_ips = {host: values["private_ip"] for host, values in hosts.items()}
        router_address = hosts[plan.settings.router.host]["public_ip"]
        for name, text in monitoring_files(plan.settings, private_ips, router_address).items():
            files[f"{MONITORING_DIR}/{name}"] = text
    return files


def write_files(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write the files, first removing cloud-init scripts of an earlier plan (a host the
    stack no longer has must not leave its script behind)."""
    for stale in (out_dir / CLOUD_INIT_DIR).glob("*.sh"):
        stale.unlink()
    written = []
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written

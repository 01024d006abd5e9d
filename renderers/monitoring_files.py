"""Every monitoring file the stack deploys, by a path for the offline plan to write: what a
reviewer reads, since the containers' uploads carry secrets and show only as `[secret]`."""

from __future__ import annotations

from collections.abc import Mapping

from config.settings import Settings
from renderers.alerts import render_alert_rules
from renderers.dashboards import render_dashboards
from renderers.exporters import render_dcgm_counters
from renderers.grafana import PROVISIONING_DIR, render_provisioning
from renderers.prometheus import CONFIG_FILE, RULES_FILE, render_prometheus_config


def monitoring_files(
    settings: Settings, private_ips: Mapping[str, str], router_address: str
) -> dict[str, str]:
    """The files for hosts at `private_ips`, the router host's public address
    `router_address`."""
    files = {
        f"prometheus/{CONFIG_FILE}": render_prometheus_config(
            settings, private_ips, router_address
        ),
        f"prometheus/{RULES_FILE}": render_alert_rules(settings),
        "dcgm-exporter/metis-llm.csv": render_dcgm_counters(),
    }
    for path, text in render_provisioning().items():
        files[f"grafana/provisioning/{path.removeprefix(PROVISIONING_DIR + '/')}"] = text
    for name, text in render_dashboards().items():
        files[f"grafana/dashboards/{name}"] = text
    return files

"""Monitoring: pinned images, and no router on a monitoring port."""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import Problem, config_key
from config.images import DCGM_EXPORTER_TAGS, RELEASE_TAGS, ImageRef, TagScheme
from config.ports import MONITORING_PORTS
from config.settings import MonitoringImagesConfig, Settings

TAGS: dict[str, TagScheme] = {
    "prometheus": RELEASE_TAGS,
    "grafana": RELEASE_TAGS,
    "node_exporter": RELEASE_TAGS,
    "dcgm_exporter": DCGM_EXPORTER_TAGS,
}
"""How each monitoring image's publisher tags its releases."""


def pinned_monitoring_images(s: Settings) -> Iterator[Problem]:
    for field, scheme in TAGS.items():
        text = getattr(s.monitoring.images, field)
        default = MonitoringImagesConfig.model_fields[field].default
        ref = ImageRef.parse(text)
        if ref is None or not ref.pinned(scheme):
            yield Problem(
                config_key("monitoring", "images", field),
                text,
                "not an image pinned to a release: what runs would change under the stack",
                f"pin a release tag ({scheme.examples}), e.g. {default}, optionally with "
                "@sha256:<digest>",
            )


def router_off_monitoring_ports(s: Settings) -> Iterator[Problem]:
    """The router's port is open to its callers; the monitoring ports must stay private (and
    on the router host Grafana or Prometheus holds them)."""
    if s.monitoring.enabled and s.router.port in MONITORING_PORTS:
        yield Problem(
            config_key("router", "port"),
            s.router.port,
            f"port {s.router.port} is {MONITORING_PORTS[s.router.port]}'s, which stays private",
            "use another port, e.g. 8888",
        )


RULES = (pinned_monitoring_images, router_off_monitoring_ports)

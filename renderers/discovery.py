"""The discovery record: what `python -m ops` needs to know about a stack beyond the tags on
its instances, published by the program as an SSM parameter it can read with AWS credentials
and the stack's name alone (a CI runner has no Pulumi CLI and no state).

Nothing secret goes in: the router key stays a stack output (Metis's runner has it as
VLLM_API_KEY). The router's CA certificate does (public, as the `router_ca_certificate`
output): ops verifies the router against it. The instances themselves are found by their
tags (components/tags.py).
"""

from __future__ import annotations

import json
from typing import Any

from config.discovery import VERSION
from config.settings import Settings
from renderers.cost import hourly_cost
from renderers.litellm import ROUTER_HEALTH_PATH
from renderers.metis import render_metis_config
from renderers.review_probe import review_probe_config

STANDARD_TIER_BYTES = 4096
"""What a Standard (free) parameter holds; larger records need the Advanced tier (8 KB)."""


def discovery_record(
    settings: Settings, stack: str, router_url: str, router_ca_certificate: str
) -> dict[str, Any]:
    """`router_ca_certificate`: the stack's own CA (PEM), or empty when clients need none
    (a domain's public certificate, or plain HTTP): then the record holds null."""
    probe = review_probe_config(settings)
    # The URL and CA file are the router container's own; ops calls the router's public URL
    # trusting the record's CA. The schema is also the tool's parameters: ops takes it from
    # there (the record must stay small).
    del probe["url"], probe["ca_file"], probe["schema"]
    return {
        "version": VERSION,
        "stack": stack,
        "router_url": router_url,
        "router_ca_certificate": router_ca_certificate or None,
        "health_path": ROUTER_HEALTH_PATH,
        "models": {
            "chat": settings.chat.served_name,
            "embedding": settings.embedding.served_name,
            "embed_dim": settings.embedding.dimension,
        },
        "usd_per_hour": {
            settings.hosts[host].instance_type: price
            for host, price in hourly_cost(settings).by_host.items()
        },
        "idle_stop_minutes": settings.idle_stop.minutes if settings.idle_stop else None,
        "review_probe": probe,
        "metis_config": render_metis_config(settings, router_url),
    }


def render_discovery(
    settings: Settings, stack: str, router_url: str, router_ca_certificate: str
) -> str:
    """Compact JSON with one line per key: small, and a plan diff shows which keys changed."""
    record = discovery_record(settings, stack, router_url, router_ca_certificate)
    lines = [
        f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'))}"
        for key, value in record.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}"


def tier(record: str) -> str:
    """Standard while it fits (free), Advanced above 4 KB. With the stack's CA (about 660
    bytes of PEM) the example stacks' records are about 3.4 KB (tests/test_render_discovery.py)."""
    return "Standard" if len(record.encode()) <= STANDARD_TIER_BYTES else "Advanced"

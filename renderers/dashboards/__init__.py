"""The Grafana dashboards, as code (grafana-foundation-sdk, Grafana 11.6 builders), rendered
to JSON files that Grafana's file provider loads when it starts.

Three dashboards: the models (vLLM), the GPUs and hosts (dcgm-exporter, node-exporter), the
router (LiteLLM). Every panel aggregates by the label that names what it shows (`model_name`,
`host` and `gpu`, `requested_model`, `model_id`...), so each model, replica or GPU is its own
series and no template variable is needed. Every metric name is the pinned version's
(docs/reference/observability.md); the end-to-end test runs every query against the real
Prometheus scraping the test servers and the real LiteLLM proxy, and each must return data.

Modules: `layout` (what a board is made of), one per board (`models`, `gpus`, `router`),
and `grafana_json` (a board as Grafana's JSON, through grafana-foundation-sdk).
"""

from __future__ import annotations

import json

from renderers.dashboards.gpus import GPUS
from renderers.dashboards.grafana_json import DATASOURCE_UID, FOLDER, dashboard
from renderers.dashboards.models import MODELS
from renderers.dashboards.router import ROUTER

BOARDS = (MODELS, GPUS, ROUTER)

__all__ = ["BOARDS", "DATASOURCE_UID", "FOLDER", "render_dashboards"]


def render_dashboards() -> dict[str, str]:
    """Dashboard JSON by file name."""
    return {
        board.file_name: json.dumps(dashboard(board), indent=2, sort_keys=True) + "\n"
        for board in BOARDS
    }

"""The dashboards as rendered JSON, and Grafana's provisioning: what Grafana loads when it
starts. (Whether every query returns data is proven end to end, tests/test_monitoring_e2e.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from renderers.dashboards import BOARDS, DATASOURCE_UID, render_dashboards
from renderers.grafana import (
    DASHBOARD_PROVIDERS_FILE,
    DASHBOARDS_DIR,
    DATASOURCES_FILE,
    grafana_env,
    render_provisioning,
)
from tests.support.prometheus import promtool, write_files

DASHBOARDS = {name: json.loads(text) for name, text in render_dashboards().items()}
RETIRED_VLLM_NAMES = (
    "vllm:gpu_cache_usage_perc",
    "vllm:time_per_output_token_seconds",
    "vllm:gpu_prefix_cache_queries",
    "vllm:gpu_prefix_cache_hits",
)
"""Names of older vLLM releases that 0.32.0 no longer exports (docs/reference/observability.md)."""


def _panels(dashboard: dict) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_three_dashboards_by_uid_one_file_each():
    assert {d["uid"]: name for name, d in DASHBOARDS.items()} == {
        "metis-llm-models": "metis-llm-models.json",
        "metis-llm-gpus": "metis-llm-gpus.json",
        "metis-llm-router": "metis-llm-router.json",
    }


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_queries_the_provisioned_prometheus(name):
    for panel in _panels(DASHBOARDS[name]):
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}
        assert panel["targets"]
        assert all(target["expr"] for target in panel["targets"])


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_ids_are_unique(name):
    ids = [panel["id"] for panel in DASHBOARDS[name]["panels"]]

    assert len(ids) == len(set(ids))
    assert 0 not in ids


def test_no_query_uses_a_name_vllm_032_no_longer_exports():
    text = "\n".join(render_dashboards().values())

    assert [name for name in RETIRED_VLLM_NAMES if name in text] == []


def test_the_issues_panels_are_there():
    titles = {panel["title"] for d in DASHBOARDS.values() for panel in _panels(d)}

    assert {
        "Requests running",
        "Requests waiting",
        "Time to first token",
        "Inter-token latency",
        "End-to-end request latency",
        "Tokens per second",
        "KV-cache usage per replica",
        "Prefix-cache hit rate",
        "Preemptions per second",
        "GPU utilization",
        "GPU memory used",
        "GPU temperature",
        "GPU power",
        "Requests per second by status code",
        "Request latency",
        "Failed attempts per replica",
        "Cooldowns per replica",
    } <= titles


@pytest.mark.lint
def test_every_query_is_valid_promql(tmp_path: Path):
    """promtool parses each query as a recording rule's expression."""
    queries = [query for board in BOARDS for query in board.queries]
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [{"record": f"query_{i}", "expr": q} for i, q in enumerate(queries)],
            }
        ]
    }
    write_files(tmp_path, {"queries.yml": yaml.safe_dump(rules)})

    checked = promtool("check", "rules", "queries.yml", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(queries)} rules found" in checked.stdout


def test_the_data_source_has_the_uid_the_dashboards_name():
    (source,) = yaml.safe_load(render_provisioning()[DATASOURCES_FILE])["datasources"]

    assert source["uid"] == DATASOURCE_UID
    assert source["url"] == "http://127.0.0.1:9090"


def test_grafana_loads_the_dashboards_from_where_they_are_uploaded():
    (provider,) = yaml.safe_load(render_provisioning()[DASHBOARD_PROVIDERS_FILE])["providers"]

    assert provider["options"]["path"] == DASHBOARDS_DIR
    assert provider["allowUiUpdates"] is False


def test_grafana_listens_on_loopback_and_reads_its_password_from_a_file():
    env = grafana_env()

    assert env["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"].startswith("/")
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"

"""The Mermaid topology: Metis -> router -> replicas, each inside its host, with ports."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config.loader import load_settings
from renderers.topology import render_topology


def _subgraphs(text: str) -> dict[str, list[str]]:
    """Node ids declared inside each subgraph, by subgraph id."""
    members: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph "):
            current = stripped.split()[1].split("[")[0]
            members[current] = []
        elif stripped == "end":
            current = None
        elif current is not None:
            members[current].append(re.split(r"[\[(]", stripped, maxsplit=1)[0])
    return members


def _edges(text: str) -> set[tuple[str, str, str]]:
    return set(re.findall(r"^\s*(\w+) -->\|\"([^\"]*)\"\| (\w+)$", text, re.MULTILINE))


def test_dev_places_router_and_both_replicas_on_its_one_host(dev_raw: dict[str, Any]) -> None:
    text = render_topology(load_settings(dev_raw))

    assert _subgraphs(text) == {
        "host_gpu_1": ["router", "chat_gpu_1", "embedding_gpu_1", "exporters_gpu_1", "monitoring"]
    }


def test_prod_routes_to_each_replica_on_its_own_port(prod_raw: dict[str, Any]) -> None:
    edges = _edges(render_topology(load_settings(prod_raw)))

    assert edges == {
        ("metis", "HTTP :8888 /v1", "router"),
        ("router", ":8000 /v1", "chat_chat_1"),
        ("router", ":8000 /v1", "chat_chat_2"),
        ("router", ":8001 /v1", "embedding_embed_1"),
    }


def test_prod_puts_each_replica_inside_its_host(prod_raw: dict[str, Any]) -> None:
    groups = _subgraphs(render_topology(load_settings(prod_raw)))

    assert groups == {
        "host_chat_1": ["chat_chat_1", "exporters_chat_1"],
        "host_chat_2": ["chat_chat_2", "exporters_chat_2"],
        "host_embed_1": ["embedding_embed_1", "exporters_embed_1"],
        "host_router": ["router", "exporters_router", "monitoring"],
    }


def test_metis_node_names_the_cidrs_allowed_to_call_the_router(
    prod_raw: dict[str, Any],
) -> None:
    text = render_topology(load_settings(prod_raw))

    assert 'metis(["Metis<br/>from 198.51.100.0/24, 203.0.113.0/24"])' in text


def test_router_port_follows_the_settings(dev_raw: dict[str, Any]) -> None:
    dev_raw["router"]["port"] = 9443
    text = render_topology(load_settings(dev_raw))

    assert ("metis", "HTTP :9443 /v1", "router") in _edges(text)
    assert 'router[["LiteLLM router<br/>:9443"]]' in text


def test_tensor_parallel_replica_shows_its_gpu_range_and_served_name(
    prod_raw: dict[str, Any],
) -> None:
    text = render_topology(load_settings(prod_raw))

    assert (
        'chat_chat_1["chat replica<br/>Qwen/Qwen2.5-Coder-32B-Instruct'
        '<br/>served as qwen2.5-coder-32b<br/>vLLM :8000 · GPUs 0-3"]'
    ) in text


def test_host_label_names_instance_type_and_gpus(dev_raw: dict[str, Any]) -> None:
    text = render_topology(load_settings(dev_raw))

    assert 'subgraph host_gpu_1["host gpu-1<br/>g6.xlarge · 1x L4 22.5 GiB"]' in text


@pytest.mark.parametrize("host", ["gpu-1", "a-b-c-2"])
def test_node_ids_have_no_dashes(minimal_raw: dict[str, Any], host: str) -> None:
    minimal_raw["hosts"] = {host: {"instance_type": "g6.xlarge"}}
    text = render_topology(load_settings(minimal_raw))

    ids = re.findall(r"^\s*(?:subgraph )?([^\s\[\(]+)[\[\(]", text, re.MULTILINE)
    assert ids
    assert all(re.fullmatch(r"\w+", node_id) for node_id in ids)


def test_prometheus_scrapes_the_router_every_replica_and_every_hosts_exporters(
    prod_raw: dict[str, Any],
) -> None:
    text = render_topology(load_settings(prod_raw))

    scraped = set(re.findall(r"^\s*monitoring -\.->\|scrape\| (\w+)$", text, re.MULTILINE))
    assert scraped == {
        "router",
        "chat_chat_1",
        "chat_chat_2",
        "embedding_embed_1",
        "exporters_chat_1",
        "exporters_chat_2",
        "exporters_embed_1",
        "exporters_router",
    }


def test_a_cpu_host_runs_node_exporter_only(prod_raw: dict[str, Any]) -> None:
    text = render_topology(load_settings(prod_raw))

    assert 'exporters_router["node-exporter :9100"]' in text
    assert 'monitoring[("Prometheus :9090<br/>Grafana :3000<br/>127.0.0.1 only")]' in text


def test_without_monitoring_the_picture_has_none(dev_raw: dict[str, Any]) -> None:
    dev_raw["monitoring"] = {"enabled": False}

    text = render_topology(load_settings(dev_raw))

    assert "monitoring" not in text
    assert "exporter" not in text

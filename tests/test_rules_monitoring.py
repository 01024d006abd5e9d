"""Monitoring settings: pinned images, the router off the monitoring ports, and the disk
room monitoring takes."""

from __future__ import annotations

import pytest

from tests.config_cases import problem_at, valid, with_changes


def test_monitoring_is_on_by_default_with_bounded_retention(minimal_raw):
    monitoring = valid(minimal_raw).monitoring

    assert monitoring.enabled
    assert (monitoring.retention_days, monitoring.retention_gib) == (15, 4)


@pytest.mark.parametrize(
    ("field", "image"),
    [
        ("prometheus", "prom/prometheus:latest"),
        ("grafana", "grafana/grafana:main"),
        ("node_exporter", "prom/node-exporter"),
        ("dcgm_exporter", "nvcr.io/nvidia/k8s/dcgm-exporter:latest"),
    ],
)
def test_a_monitoring_image_on_a_rolling_tag_is_refused(minimal_raw, field, image):
    raw = with_changes(minimal_raw, monitoring={"images": {field: image}})

    problem = problem_at(raw, f"metis-llm:monitoring.images.{field}")
    assert "pinned" in problem.reason


@pytest.mark.parametrize(
    "image",
    [
        "prom/prometheus:v3.13.2",
        "grafana/grafana:13.2.0",
        "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-ubuntu22.04",
        "prom/prometheus@sha256:" + "a" * 64,
    ],
)
def test_release_tags_and_digests_pin_a_monitoring_image(minimal_raw, image):
    field = "dcgm_exporter" if "dcgm" in image else "prometheus"
    valid(with_changes(minimal_raw, monitoring={"images": {field: image}}))


@pytest.mark.parametrize("port", [3000, 9090, 9100, 9400])
def test_the_router_may_not_take_a_monitoring_port(minimal_raw, port):
    raw = with_changes(minimal_raw, router={"port": port})

    assert "stays private" in problem_at(raw, "metis-llm:router.port").reason


def test_without_monitoring_the_router_may_take_its_ports(minimal_raw):
    valid(with_changes(minimal_raw, router={"port": 9090}, monitoring={"enabled": False}))


def test_the_router_hosts_disk_holds_prometheus_data_within_its_size_bound(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6.xlarge", "disk_gib": 160}},
        monitoring={"retention_gib": 40},
    )

    problem = problem_at(raw, "metis-llm:hosts.gpu-1.disk_gib")
    assert "monitoring (54: images and metrics)" in problem.reason


def test_without_monitoring_the_disk_needs_no_room_for_it(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6.xlarge", "disk_gib": 150}},
        monitoring={"enabled": False},
    )

    valid(raw)

"""The rendered Prometheus config: what it scrapes, how, and that Debian's real promtool
accepts it for both stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import load_settings
from config.settings import Settings
from renderers.alerts import render_alert_rules
from renderers.prometheus import (
    ROUTER_CA_FILE,
    ROUTER_KEY_FILE,
    RULES_FILE,
    prometheus_command,
    render_prometheus_config,
)
from tests.support.prometheus import promtool, write_files
from tests.support.stacks import stack_raw_config

ROUTER_ADDRESS = "198.51.100.7"
"""The router host's public address in these tests."""


def _ips(settings: Settings) -> dict[str, str]:
    return {host: f"10.0.0.{index}" for index, host in enumerate(settings.hosts, start=10)}


def _config(settings: Settings) -> str:
    return render_prometheus_config(settings, _ips(settings), ROUTER_ADDRESS)


def _jobs(settings: Settings) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in yaml.safe_load(_config(settings))["scrape_configs"]}


def _targets(job: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {group["targets"][0]: group["labels"] for group in job["static_configs"]}


@pytest.fixture
def prod() -> Settings:
    return load_settings(stack_raw_config("prod"))


@pytest.mark.lint
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_promtool_accepts_the_rendered_config_and_rules(tmp_path: Path, stack: str):
    settings = load_settings(stack_raw_config(stack))
    write_files(
        tmp_path,
        {
            "prometheus.yml": _config(settings),
            RULES_FILE: render_alert_rules(settings),
            ROUTER_KEY_FILE: "sk-not-the-real-key\n",
            ROUTER_CA_FILE: "not read by check config\n",
        },
    )

    checked = promtool("check", "config", "prometheus.yml", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_every_vllm_replica_is_scraped_on_its_private_address_and_port(prod):
    assert _targets(_jobs(prod)["vllm"]) == {
        "10.0.0.10:8000": {"host": "chat-1", "service": "chat"},
        "10.0.0.11:8000": {"host": "chat-2", "service": "chat"},
        "10.0.0.12:8001": {"host": "embed-1", "service": "embedding"},
    }


def test_the_router_is_scraped_on_its_own_host_with_the_key_from_a_file(prod):
    litellm = _jobs(prod)["litellm"]

    assert _targets(litellm) == {"127.0.0.1:8888": {"host": "router"}}
    assert litellm["metrics_path"] == "/metrics/"
    assert litellm["authorization"] == {"type": "Bearer", "credentials_file": ROUTER_KEY_FILE}


def test_the_router_is_scraped_over_https_checking_the_stacks_ca_and_its_public_name(prod):
    litellm = _jobs(prod)["litellm"]

    assert litellm["scheme"] == "https"
    assert litellm["tls_config"] == {"ca_file": ROUTER_CA_FILE, "server_name": ROUTER_ADDRESS}


def test_a_plain_http_router_is_scraped_over_plain_http(dev_raw):
    dev_raw["router"] = {**dev_raw["router"], "plain_http": True}

    litellm = _jobs(load_settings(dev_raw))["litellm"]

    assert "scheme" not in litellm
    assert "tls_config" not in litellm


def test_dcgm_exporter_is_scraped_on_gpu_hosts_only(prod):
    assert set(_targets(_jobs(prod)["dcgm"])) == {
        "10.0.0.10:9400",
        "10.0.0.11:9400",
        "10.0.0.12:9400",
    }


def test_node_exporter_is_scraped_on_every_host(prod):
    assert _targets(_jobs(prod)["node"])["10.0.0.13:9100"] == {"host": "router"}
    assert len(_targets(_jobs(prod)["node"])) == 4


def test_no_job_for_a_stack_without_gpu_hosts_of_its_kind(dev_raw):
    settings = load_settings(dev_raw)

    assert set(_jobs(settings)) == {"vllm", "litellm", "dcgm", "node"}


def test_prometheus_listens_on_loopback_and_keeps_bounded_data(dev_raw):
    dev_raw["monitoring"] = {"retention_days": 30, "retention_gib": 6}

    command = prometheus_command(load_settings(dev_raw))

    assert "--web.listen-address=127.0.0.1:9090" in command
    assert "--storage.tsdb.retention.time=30d" in command
    assert "--storage.tsdb.retention.size=6GB" in command


def test_rule_files_key_file_and_ca_file_are_relative_to_the_config(dev_raw):
    settings = load_settings(dev_raw)
    config = yaml.safe_load(_config(settings))

    assert config["rule_files"] == [RULES_FILE]
    assert not ROUTER_KEY_FILE.startswith("/")
    assert not ROUTER_CA_FILE.startswith("/")

"""Monitoring, end to end on loopback: Debian's real Prometheus runs the rendered config and
alert rules unchanged and scrapes the test vLLM servers (vLLM 0.32.0's metrics), the real
LiteLLM proxy (its Prometheus callback, behind the router key), Debian's real node_exporter
and a stand-in dcgm-exporter; then every dashboard query must return data.

Each "host" of the stack gets its own loopback address (127.0.0.x), the router listens on
127.0.0.1 as Prometheus sees it from its own host, and Prometheus on 127.0.0.1:9090: the
rendered config needs no rewriting. The router serves HTTPS with the test certificates
(testbed/certificates.py), which name a test Elastic IP as the stack's name the router
host's: Prometheus checks the chain to the CA and that name, as deployed.

It runs the prod stack only: it covers the most (two chat replicas, so the router fails
over and cools a replica down and every router panel has data; a GPU-less router host, so
dcgm-exporter runs on some hosts only; four hosts with several GPUs each). dev (everything
on one host) renders through the same code, which promtool checks for both stacks; a second
run here would add about a minute and a half to the suite and cover nothing new but
LiteLLM 1.108.7 never cooling down a model's only deployment
(router_utils/cooldown_handlers.py, `_should_cooldown_deployment`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import openai
import pytest

from config.ports import DCGM_EXPORTER_PORT, PROMETHEUS_PORT
from config.settings import Settings
from renderers.alerts import render_alert_rules
from renderers.dashboards import BOARDS
from renderers.exporters import HOST_ROOT, node_exporter_command, render_dcgm_counters
from renderers.litellm import deployments
from renderers.prometheus import (
    CONFIG_FILE,
    ROUTER_CA_FILE,
    ROUTER_KEY_FILE,
    RULES_FILE,
    SCRAPE_INTERVAL,
    render_prometheus_config,
)
from testbed.certificates import TEST_PUBLIC_IP, loopback_certificates
from testbed.fake_vllm import FakeVllm
from testbed.litellm_proxy import LitellmProxy
from testbed.stack import loopback_addresses, replica_server, stack_router
from tests.config_cases import valid
from tests.support.fake_dcgm import FakeDcgmExporter
from tests.support.prometheus import PrometheusServer, node_exporter
from tests.support.stacks import stack_raw_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROUTER_KEY = "sk-e2e-monitoring-router-key"
BACKEND_KEY = "e2e-monitoring-backend-key"
SCRAPE_SECONDS = int(SCRAPE_INTERVAL.removesuffix("s"))


@dataclass
class Monitored:
    settings: Settings
    prometheus: PrometheusServer
    proxy: LitellmProxy
    replicas: dict[str, FakeVllm]


def _wait_for_targets(prometheus: PrometheusServer, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        targets = prometheus.targets()
        if targets and all(t["health"] == "up" for t in targets):
            return
        if time.monotonic() > deadline:
            down = {t["scrapeUrl"]: t["lastError"] for t in targets if t["health"] != "up"}
            raise AssertionError(f"targets not up after {timeout} s: {down}")
        time.sleep(1)


def _wait_for_two_scrapes_since(
    prometheus: PrometheusServer, since: float, timeout: float = 180
) -> None:
    """Until every target has been scraped twice after `since` (series the traffic created
    need two samples for a rate): a scrape at least one interval after it has one before."""
    deadline = time.monotonic() + timeout
    while True:
        scraped = [
            datetime.fromisoformat(target["lastScrape"].replace("Z", "+00:00")).timestamp()
            for target in prometheus.targets()
        ]
        if scraped and min(scraped) >= since + SCRAPE_SECONDS:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"targets not scraped twice within {timeout} s of the traffic")
        time.sleep(1)


def _traffic(backend: Monitored) -> None:
    """Metis-like requests through the router, one refused for want of the key, and some
    while one chat replica fails, until the router has sent it one (it fails over to the
    other replica and cools the failing one down)."""
    settings = backend.settings
    proxy = backend.proxy
    client = openai.OpenAI(
        base_url=proxy.base_url,
        api_key=ROUTER_KEY,
        max_retries=0,
        http_client=httpx.Client(verify=proxy.verify()),
    )
    prompt = "review this function for injection flaws " * 8
    for _ in range(3):
        client.chat.completions.create(
            model=settings.chat.served_name, messages=[{"role": "user", "content": prompt}]
        )
        client.responses.create(model=settings.chat.served_name, input=prompt)
        client.embeddings.create(model=settings.embedding.served_name, input=["def f(): pass"])
    refused = httpx.post(
        f"{proxy.base_url}/chat/completions", json={}, timeout=30, verify=proxy.verify()
    )
    assert refused.status_code == 401
    failing = backend.replicas[f"chat-{settings.chat.hosts[0]}"]
    failing.fail_status = 500
    try:
        for _ in range(20):  # the router picks replicas at random
            with contextlib.suppress(openai.APIStatusError):
                client.chat.completions.create(
                    model=settings.chat.served_name, messages=[{"role": "user", "content": "hi"}]
                )
            if any(request.status == 500 for request in failing.requests):
                break
    finally:
        failing.fail_status = None


@pytest.fixture(scope="module")
def monitored() -> Iterator[Monitored]:
    settings = valid(stack_raw_config("prod"))
    addresses = loopback_addresses(settings)
    counters = render_dcgm_counters()
    with ExitStack() as running:
        replicas = {
            deployment.deployment_id: running.enter_context(
                replica_server(settings, deployment, addresses, BACKEND_KEY)
            )
            for deployment in deployments(settings)
        }
        for host, address in addresses.items():
            command = node_exporter_command(address)
            running.enter_context(node_exporter([arg.replace(HOST_ROOT, "/") for arg in command]))
            spec = settings.instance(host)
            if spec is not None and spec.has_gpu:
                running.enter_context(
                    FakeDcgmExporter(
                        counters,
                        host=address,
                        port=DCGM_EXPORTER_PORT,
                        gpus=spec.gpu_count,
                        model=f"NVIDIA {spec.gpu_model}",
                    )
                )
        proxy = running.enter_context(
            stack_router(
                settings,
                addresses,
                router_key=ROUTER_KEY,
                backend_key=BACKEND_KEY,
                port=settings.router.port,
            )
        )
        prometheus = running.enter_context(
            PrometheusServer(
                {
                    CONFIG_FILE: render_prometheus_config(settings, addresses, TEST_PUBLIC_IP),
                    RULES_FILE: render_alert_rules(settings),
                    ROUTER_KEY_FILE: ROUTER_KEY,
                    ROUTER_CA_FILE: loopback_certificates().ca_file.read_text(),
                },
                port=PROMETHEUS_PORT,
                config=CONFIG_FILE,
            )
        )
        backend = Monitored(settings, prometheus, proxy, replicas)
        _wait_for_targets(prometheus)
        _traffic(backend)
        _wait_for_two_scrapes_since(prometheus, time.time())
        yield backend


def test_every_target_is_up_the_router_with_its_key(monitored: Monitored):
    jobs = {t["labels"]["job"] for t in monitored.prometheus.targets() if t["health"] == "up"}

    assert jobs == {"vllm", "litellm", "dcgm", "node"}


@pytest.mark.parametrize("board", BOARDS, ids=lambda board: board.uid)
def test_every_dashboard_query_returns_data(monitored: Monitored, board):
    empty = [query for query in board.queries if not monitored.prometheus.query(query)]

    assert empty == []


def test_per_model_series_name_each_served_model(monitored: Monitored):
    served = {monitored.settings.chat.served_name, monitored.settings.embedding.served_name}
    result = monitored.prometheus.query("sum by (model_name) (vllm:prompt_tokens_total)")

    assert {sample["metric"]["model_name"] for sample in result} == served


def test_the_router_counts_requests_by_status_code(monitored: Monitored):
    """LiteLLM 1.108.7 records a request refused for want of the key with status_code "None"
    (its auth error carries no status); the failing replica's 500s never reach the client,
    the router fails over to the other replica."""
    result = monitored.prometheus.query(
        "sum by (status_code) (litellm_proxy_total_requests_metric_total)"
    )

    assert {sample["metric"]["status_code"] for sample in result} == {"200", "None"}


def test_the_failing_replica_is_counted_against_its_deployment_id(monitored: Monitored):
    result = monitored.prometheus.query(
        'sum by (model_id) (litellm_deployment_failure_responses_total{model_id!=""})'
    )

    assert {sample["metric"]["model_id"] for sample in result} == {
        f"chat-{monitored.settings.chat.hosts[0]}"
    }


def test_the_routers_workers_keep_their_metrics_in_a_folder_of_the_proxys_own(
    monitored: Monitored,
):
    """LiteLLM wipes `$TMPDIR/litellm_prometheus_multiproc` when it starts: in the shared
    /tmp, a proxy another test run started on this machine emptied this one's series."""
    (line,) = [line for line in monitored.proxy.log().splitlines() if "MULTIPROC_DIR=" in line]
    folder = Path(line.split("=", 1)[1])

    assert folder.name == "litellm_prometheus_multiproc"
    assert folder.parent.name.startswith("litellm-proxy-")


def test_every_alert_rule_loads_and_evaluates(monitored: Monitored):
    groups = httpx.get(f"{monitored.prometheus.url}/api/v1/rules", timeout=10).json()["data"]
    rules = [rule for group in groups["groups"] for rule in group["rules"]]

    assert len(rules) == 6
    assert {rule["health"] for rule in rules} == {"ok"}

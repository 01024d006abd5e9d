"""The idle stop's activity publisher (renderers/scripts/activity_publisher.py): its logic as
plain functions, then the program itself against test vLLM servers' /metrics, the real
LiteLLM proxy in front of them, and CloudWatch played by moto, all on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from renderers.idle_stop import publisher_config
from renderers.litellm import deployments, render_litellm_config
from renderers.scripts import activity_publisher as publisher
from renderers.scripts.activity_publisher import Reading
from testbed.fake_vllm import FakeVllm
from testbed.litellm_proxy import LitellmProxy
from testbed.stack import replica_server
from tests.config_cases import valid
from tests.support import aws
from tests.support.stacks import stack_raw_config

SCRIPT = Path(publisher.__file__)
VLLM_METRICS = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="qwen"} 2.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="qwen"} 1.0
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="qwen"} 7.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="qwen"} 1.0
vllm:request_success_created{engine="0",finished_reason="stop",model_name="qwen"} 1.79e+09
vllm:num_requests_waiting_by_reason{engine="0",model_name="m",reason="capacity"} 1.0
"""
"""Shaped as vLLM 0.32.0 exposes these series (docs/reference/observability.md)."""


# Reading the exposition format


def test_a_sample_line_gives_its_name_and_value_whatever_its_labels_hold():
    line = 'vllm:x{model_name="a b}c",engine="0",q="say \\"hi\\""} 3.5 1700000000'

    assert publisher.sample_value(line) == ("vllm:x", 3.5)
    assert publisher.sample_value("plain_metric 2") == ("plain_metric", 2.0)
    assert publisher.sample_value("# TYPE vllm:x gauge") is None


def test_the_totals_sum_every_series_of_the_three_families_and_nothing_else():
    assert publisher.totals(VLLM_METRICS) == {
        publisher.RUNNING: 2.0,
        publisher.WAITING: 1.0,
        publisher.FINISHED: 8.0,
    }


def test_an_answer_without_a_family_cannot_be_trusted():
    text = VLLM_METRICS.replace("vllm:num_requests_waiting{", "other{")

    assert "exports no vllm:num_requests_waiting" in publisher.reading("u", 200, text).problem


def test_an_error_status_cannot_be_trusted():
    assert publisher.reading("u", 503, "").problem == "answered 503"


def test_a_good_answer_is_busy_with_running_and_waiting_requests():
    assert publisher.reading("u", 200, VLLM_METRICS) == Reading("u", busy=3.0, finished=8.0)


# From readings to the published value


def test_the_first_reading_counts_only_the_requests_in_flight():
    value, counts = publisher.activity([Reading("a", 0.0, 40.0)], {})

    assert (value, counts) == (0.0, {"a": 40.0})


def test_requests_finished_since_the_last_reading_count_as_activity():
    value, _ = publisher.activity([Reading("a", 0.0, 43.0), Reading("b", 1.0, 5.0)], {"a": 40.0})

    assert value == 4.0  # 3 finished on a, 1 running on b, b read for the first time


def test_a_counter_lower_than_before_is_a_restarted_server_all_of_whose_count_is_new():
    value, _ = publisher.activity([Reading("a", 0.0, 2.0)], {"a": 40.0})

    assert value == 2.0


def test_an_unreachable_server_counts_as_idle_and_keeps_its_last_count():
    value, counts = publisher.activity([Reading("a"), Reading("b", 0.0, 5.0)], {"a": 40.0})

    assert value == 0.0
    assert counts == {"a": 40.0, "b": 5.0}


def test_one_server_that_cannot_be_trusted_means_nothing_is_published():
    value, _ = publisher.activity(
        [Reading("a", problem="answered 500"), Reading("b", 0.0, 1.0)], {}
    )

    assert value is None


def test_one_datapoint_per_host_so_that_each_hosts_alarm_sees_it():
    config = {"metric": "RequestActivity", "instance_ids": ["i-1", "i-2"]}

    data = publisher.metric_data(config, 0.0, 1.0)

    assert [d["Dimensions"] for d in data] == [
        [{"Name": "InstanceId", "Value": "i-1"}],
        [{"Name": "InstanceId", "Value": "i-2"}],
    ]


def test_nothing_is_sent_when_the_value_is_unsure():
    sent = []
    config = {"servers": ["a"], "timeout_seconds": 1, "instance_ids": ["i-1"]}

    outcome, _ = publisher.publish_once(
        config, {}, lambda **k: sent.append(k), read=lambda url, t: Reading(url, problem="hung")
    )

    assert sent == []
    assert outcome == "not published: a hung"


def test_a_failed_put_is_reported_and_tried_again_next_time():
    def refuse(**_):
        raise RuntimeError("throttled")

    config = {"servers": [], "timeout_seconds": 1, "instance_ids": ["i-1"], "metric": "m"}
    config["namespace"] = "metis-llm"

    outcome, _ = publisher.publish_once(config, {}, refuse)

    assert outcome == "not published: PutMetricData failed (throttled)"


# The program on loopback: test vLLM servers, the real router, moto's CloudWatch

E2E = pytest.mark.e2e
"""Tests that start the test servers, the real proxy or moto."""


@pytest.fixture
def cloud(moto: str) -> str:
    """CloudWatch (moto), empty."""
    aws.reset(moto)
    return moto


@pytest.fixture(scope="module")
def dev_servers() -> Iterator[dict[str, FakeVllm]]:
    """The dev stack's two vLLM servers, from their rendered commands, at 127.0.13.2."""
    settings = valid(stack_raw_config("dev"))
    with ExitStack() as running:
        yield {
            d.service: running.enter_context(
                replica_server(settings, d, {"gpu-1": "127.0.13.2"}, "backend-key")
            )
            for d in deployments(settings)
        }


def run_publisher(config: dict, tmp_path: Path, rounds: int = 1) -> subprocess.CompletedProcess:
    path = tmp_path / "activity.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), str(rounds)],
        env={"PATH": os.environ["PATH"], **aws.CREDENTIALS},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config_for(endpoint: str, servers: list[str], instance_ids: list[str]) -> dict:
    settings = valid(stack_raw_config("dev"))
    config = publisher_config(settings, {"gpu-1": "127.0.13.2"}, instance_ids, aws.REGION)
    return {**config, "servers": servers, "endpoint_url": endpoint, "timeout_seconds": 2}


def published(endpoint: str, instance_id: str) -> list[float]:
    answer = aws.client("cloudwatch", endpoint).get_metric_statistics(
        Namespace="metis-llm",
        MetricName="RequestActivity",
        Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
        StartTime=datetime.now(UTC) - timedelta(minutes=5),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )
    return [point["Maximum"] for point in answer["Datapoints"]]


def metrics_urls(servers: dict[str, FakeVllm]) -> list[str]:
    return [f"http://{s.host}:{s.port}/metrics" for s in servers.values()]


@E2E
def test_idle_servers_publish_zero_for_every_host(cloud, dev_servers, tmp_path):
    config = config_for(cloud, metrics_urls(dev_servers), ["i-0idle00000000001", "i-0idle2"])

    done = run_publisher(config, tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "idle: published 0\n"
    assert published(cloud, "i-0idle00000000001") == [0.0]
    assert published(cloud, "i-0idle2") == [0.0]


@E2E
def test_a_review_running_through_the_real_router_keeps_the_stack_busy(
    cloud, dev_servers, tmp_path
):
    """A review-length generation sends nothing for minutes; vLLM still counts it running."""
    settings = valid(stack_raw_config("dev"))
    chat = dev_servers["chat"]
    chat.stall_seconds = 8.0  # long enough to read it while it runs
    config = config_for(cloud, metrics_urls(dev_servers), ["i-0busy"])
    with LitellmProxy(
        render_litellm_config(settings, {"gpu-1": "127.0.13.2"}),
        master_key="sk-router",
        backend_key="backend-key",
    ) as proxy:
        review = threading.Thread(
            target=lambda: httpx.post(
                f"{proxy.base_url}/chat/completions",
                headers=proxy.headers(),
                json={
                    "model": settings.chat.served_name,
                    "messages": [{"role": "user", "content": "review"}],
                },
                timeout=60,
            )
        )
        review.start()
        try:
            deadline = time.monotonic() + 20
            while not any(
                r.status is None and r.path.endswith("completions") for r in chat.requests
            ):
                assert time.monotonic() < deadline, "the router never reached the chat server"
                time.sleep(0.05)
            done = run_publisher(config, tmp_path)
        finally:
            chat.stall_seconds = 0.0
            review.join()

    assert done.stdout == "busy: published more than 0\n"
    assert published(cloud, "i-0busy") == [1.0]


@E2E
def test_a_server_that_refuses_connections_counts_as_idle(cloud, dev_servers, tmp_path):
    refused = f"http://127.0.13.3:{dev_servers['chat'].port}/metrics"  # nothing listens there
    config = config_for(cloud, [*metrics_urls(dev_servers), refused], ["i-0stopped"])

    done = run_publisher(config, tmp_path)

    assert done.stdout == "idle: published 0\n"
    assert published(cloud, "i-0stopped") == [0.0]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a server too busy or hung to report."""
    listener = socket.create_server(("127.0.13.4", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.13.4:{listener.getsockname()[1]}/metrics"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


@E2E
def test_a_server_that_does_not_answer_means_nothing_is_published(
    cloud, dev_servers, silent_server, tmp_path
):
    config = config_for(cloud, [*metrics_urls(dev_servers), silent_server], ["i-0unsure"])

    done = run_publisher(config, tmp_path)

    assert done.stdout.startswith(f"not published: {silent_server} did not answer")
    assert published(cloud, "i-0unsure") == []


@E2E
def test_requests_finished_between_two_readings_are_published(cloud, dev_servers, tmp_path):
    """Round one reads the counters; an embedding request finishes; round two sees it."""
    embedding = dev_servers["embedding"]
    config = {
        **config_for(cloud, metrics_urls(dev_servers), ["i-0finished"]),
        "interval_seconds": 2,
    }
    path = tmp_path / "activity.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(path), "2"],
        env={"PATH": os.environ["PATH"], **aws.CREDENTIALS},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "idle: published 0\n"
        httpx.post(
            f"{embedding.url}/embeddings",
            headers={"Authorization": "Bearer backend-key"},
            json={"model": embedding.served_name, "input": "one chunk"},
        ).raise_for_status()
        assert process.stdout.readline() == "busy: published more than 0\n"
    finally:
        process.wait(timeout=30)
    assert sorted(published(cloud, "i-0finished")) in ([0.0, 1.0], [1.0])

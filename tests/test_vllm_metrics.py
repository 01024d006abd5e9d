"""The test vLLM server's `/metrics`: vLLM 0.32.0's names, types, labels and buckets,
driven by the requests it serves (testbed/fake_vllm/metrics.py, metering.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from testbed.fake_vllm import FakeVllm
from testbed.fake_vllm.metrics import (
    INTER_TOKEN_LATENCY_BUCKETS,
    REQUEST_LATENCY_BUCKETS,
    TIME_TO_FIRST_TOKEN_BUCKETS,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct"
KEY = "sk-metrics-backend"
VLLM_WHEEL = Path("/work/cache/vllm-0.32.0/vllm")
"""The extracted vLLM 0.32.0 wheel, where this machine has it (not part of the project)."""

ENGINE_METRICS = {
    "vllm:num_requests_running": "gauge",
    "vllm:num_requests_waiting": "gauge",
    "vllm:kv_cache_usage_perc": "gauge",
    "vllm:prefix_cache_queries": "counter",
    "vllm:prefix_cache_hits": "counter",
    "vllm:num_preemptions": "counter",
    "vllm:prompt_tokens": "counter",
    "vllm:generation_tokens": "counter",
    "vllm:request_success": "counter",
    "vllm:time_to_first_token_seconds": "histogram",
    "vllm:inter_token_latency_seconds": "histogram",
    "vllm:e2e_request_latency_seconds": "histogram",
    "vllm:request_queue_time_seconds": "histogram",
}


@pytest.fixture
def chat() -> Iterator[FakeVllm]:
    with FakeVllm(MODEL, KEY, max_model_len=4096) as server:
        yield server


@pytest.fixture
def embedding() -> Iterator[FakeVllm]:
    with FakeVllm("BAAI/bge-base-en-v1.5", KEY, dimension=8) as server:
        yield server


def _client(server: FakeVllm) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)


def _scrape(server: FakeVllm) -> dict[str, float]:
    """Every sample by `name{labels}` (labels sorted), as Prometheus would store it."""
    text = httpx.get(f"http://{server.host}:{server.port}/metrics").text
    return {
        sample.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())) + "}": (
            sample.value
        )
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(server: FakeVllm, name: str, **labels: str) -> float:
    wanted = {"model_name": server.served_name, "engine": "0", **labels}
    key = name + "{" + ",".join(f"{k}={v}" for k, v in sorted(wanted.items())) + "}"
    return _scrape(server)[key]


def test_metrics_answer_without_the_key_in_the_text_format(chat):
    answer = httpx.get(f"http://{chat.host}:{chat.port}/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_an_idle_server_exports_every_engine_metric_with_its_type_and_labels(chat):
    text = httpx.get(f"http://{chat.host}:{chat.port}/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}

    # The parser drops a counter's `_total`; vLLM's names are the family names.
    assert {name: families[name].type for name in ENGINE_METRICS} == ENGINE_METRICS
    for name in ENGINE_METRICS:
        for sample in families[name].samples:
            assert sample.labels["model_name"] == MODEL
            assert sample.labels["engine"] == "0"


def test_counters_are_exposed_with_total_as_prometheus_stores_them(chat):
    samples = _scrape(chat)

    assert samples[f"vllm:prompt_tokens_total{{engine=0,model_name={MODEL}}}"] == 0
    assert f"vllm:time_to_first_token_seconds_bucket{{engine=0,le=0.1,model_name={MODEL}}}" in (
        samples
    )


def test_request_success_has_a_series_per_finish_reason_from_the_start(chat):
    reasons = {
        reason: _value(chat, "vllm:request_success_total", finished_reason=reason)
        for reason in ("stop", "length", "abort", "error", "repetition")
    }

    assert reasons == dict.fromkeys(reasons, 0.0)


def test_histograms_use_vllms_buckets(chat):
    text = httpx.get(f"http://{chat.host}:{chat.port}/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}

    def bounds(name: str) -> tuple[float, ...]:
        les = [s.labels["le"] for s in families[name].samples if s.name.endswith("_bucket")]
        return tuple(float(le) for le in les if le != "+Inf")

    assert bounds("vllm:time_to_first_token_seconds") == TIME_TO_FIRST_TOKEN_BUCKETS
    assert bounds("vllm:inter_token_latency_seconds") == INTER_TOKEN_LATENCY_BUCKETS
    assert bounds("vllm:e2e_request_latency_seconds") == REQUEST_LATENCY_BUCKETS


def test_a_chat_completion_counts_its_tokens_and_success(chat):
    reply = _client(chat).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "one two three"}]
    )

    assert _value(chat, "vllm:prompt_tokens_total") == reply.usage.prompt_tokens == 3
    assert _value(chat, "vllm:generation_tokens_total") == reply.usage.completion_tokens
    assert _value(chat, "vllm:request_success_total", finished_reason="stop") == 1


def test_a_request_records_one_first_token_and_one_inter_token_latency_per_later_token(chat):
    reply = _client(chat).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )

    assert _value(chat, "vllm:time_to_first_token_seconds_count") == 1
    assert _value(chat, "vllm:e2e_request_latency_seconds_count") == 1
    assert _value(chat, "vllm:request_queue_time_seconds_count") == 1
    assert _value(chat, "vllm:inter_token_latency_seconds_count") == (
        reply.usage.completion_tokens - 1
    )


def test_a_cut_answer_finishes_with_length(chat):
    _client(chat).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )

    assert _value(chat, "vllm:request_success_total", finished_reason="length") == 1
    assert _value(chat, "vllm:generation_tokens_total") == 2


def test_a_streamed_responses_call_counts_its_output_tokens(chat):
    with _client(chat).responses.stream(model=MODEL, input="hello there") as stream:
        final = stream.get_final_response()

    assert _value(chat, "vllm:generation_tokens_total") == final.usage.output_tokens > 0
    assert _value(chat, "vllm:prompt_tokens_total") == 2


def test_a_chat_stream_without_usage_still_counts_its_request_and_tokens(chat):
    stream = _client(chat).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "one two"}], stream=True
    )
    generated = sum(1 for chunk in stream if chunk.choices and chunk.choices[0].delta.content)

    assert _value(chat, "vllm:request_success_total", finished_reason="stop") == 1
    assert _value(chat, "vllm:prompt_tokens_total") == 2
    assert _value(chat, "vllm:generation_tokens_total") == generated > 0


def test_an_embedding_request_counts_prompt_tokens_and_generates_none(embedding):
    _client(embedding).embeddings.create(model=embedding.served_name, input=["a b", "c"])

    assert _value(embedding, "vllm:prompt_tokens_total") == 3
    assert _value(embedding, "vllm:generation_tokens_total") == 0
    assert _value(embedding, "vllm:request_success_total", finished_reason="stop") == 1


@pytest.mark.parametrize("key", [KEY, "wrong-key"])
def test_requests_that_never_reach_the_engine_are_not_counted(chat, key):
    answer = httpx.post(
        f"{chat.url}/chat/completions",
        json={"model": "another-model", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert answer.status_code in (401, 404)
    assert _value(chat, "vllm:prompt_tokens_total") == 0
    assert _value(chat, "vllm:e2e_request_latency_seconds_count") == 0


def test_a_request_counts_as_running_and_holds_kv_cache_while_it_is_served(chat):
    seen: dict[str, float] = {}

    def arguments(call):
        seen["running"] = chat.metrics.running._value.get()
        seen["kv"] = chat.metrics.kv_cache_usage._value.get()
        return {}

    chat.tool_parser, chat.tool_arguments = "hermes", arguments
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    _client(chat).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "a " * 1024}], tools=[tool]
    )

    assert seen == {"running": 1, "kv": 1024 / 4096}
    assert _value(chat, "vllm:num_requests_running") == 0
    assert _value(chat, "vllm:kv_cache_usage_perc") == 0


def test_a_stalled_request_counts_as_running_until_it_is_answered(chat):
    chat.stall_seconds = 0.5
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(
            _client(chat).chat.completions.create,
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
        )
        while not chat.requests:
            time.sleep(0.01)
        running = _value(chat, "vllm:num_requests_running")
        answer.result()

    assert running == 1
    assert _value(chat, "vllm:num_requests_running") == 0
    assert _value(chat, "vllm:request_success_total", finished_reason="stop") == 1


def test_a_repeated_prompt_hits_the_prefix_cache_in_whole_blocks(chat):
    prompt = " ".join(f"w{i}" for i in range(40))
    for _ in range(2):
        _client(chat).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}]
        )

    assert _value(chat, "vllm:prefix_cache_queries_total") == 80
    assert _value(chat, "vllm:prefix_cache_hits_total") == 32


def test_a_changed_start_misses_every_block_after_it(chat):
    words = [f"w{i}" for i in range(40)]
    for first in ("a", "b"):
        _client(chat).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": " ".join([first, *words[1:]])}]
        )

    assert _value(chat, "vllm:prefix_cache_hits_total") == 0


@pytest.mark.skipif(not VLLM_WHEEL.is_dir(), reason="the vLLM 0.32.0 wheel is not extracted here")
def test_every_metric_played_is_defined_so_in_the_vllm_wheel():
    source = (VLLM_WHEEL / "v1" / "metrics" / "loggers.py").read_text()
    defined = {
        name: kind.lower()
        for kind, name in re.findall(
            r"self\._(gauge|counter|histogram)_cls\(\s*name=\"(vllm:[a-z0-9_]+)\"", source
        )
    }

    assert {name: defined.get(name) for name in ENGINE_METRICS} == ENGINE_METRICS

"""``GET /metrics``: the three series the idle stop's activity publisher reads, as vLLM
0.32.0's ``PrometheusStatLogger`` exposes them through prometheus_client.

No key, as in vLLM: its auth middleware guards only ``/v1``, ``/v2``, ``/inference`` and
``/cohere`` (``entrypoints/serve/middleware/authenticate.py:11,59``). Series and labels from
``v1/metrics/loggers.py``: labels ``model_name`` and ``engine`` at 499-505;
``vllm:num_requests_running`` 527-535 and ``vllm:num_requests_waiting`` 537-545, set per
iteration at 1147-1153; ``vllm:request_success`` 809-819, one child per finish reason created
up front and incremented per finished request at 1289-1292, scraped as ``..._total`` with
``..._created`` (docs/reference/observability.md). Running = generation or embedding requests
received and not yet answered (a stalled one counts); success = those answered 200; waiting
is always 0 (this server queues nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

from testbed.fake_vllm.protocol import RecordedRequest

ENGINE_PATHS = frozenset({"/v1/chat/completions", "/v1/responses", "/v1/embeddings"})
"""Requests that reach vLLM's engine (and its request metrics); /v1/models does not."""
FINISH_REASONS = ("stop", "length", "abort", "error", "repetition")
"""vLLM 0.32.0 v1/engine/__init__.py:48-69 (FinishReason, as str)."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition(served_name: str, requests: Sequence[RecordedRequest], started_at: float) -> str:
    """The request gauges and counter, in prometheus_client's text exposition."""
    engine = [r for r in list(requests) if r.path in ENGINE_PATHS]
    running = sum(1 for r in engine if r.status is None)
    finished = sum(1 for r in engine if r.status == 200)
    labels = f'engine="0",model_name="{served_name}"'
    lines = [
        "# HELP vllm:num_requests_running Number of requests in model execution batches.",
        "# TYPE vllm:num_requests_running gauge",
        f"vllm:num_requests_running{{{labels}}} {float(running)}",
        "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
        "# TYPE vllm:num_requests_waiting gauge",
        f"vllm:num_requests_waiting{{{labels}}} 0.0",
        "# HELP vllm:request_success_total Count of successfully processed requests.",
        "# TYPE vllm:request_success_total counter",
    ]
    for reason in FINISH_REASONS:
        count = finished if reason == "stop" else 0
        lines.append(
            f'vllm:request_success_total{{{labels},finished_reason="{reason}"}} {float(count)}'
        )
    for reason in FINISH_REASONS:
        lines.append(
            f'vllm:request_success_created{{{labels},finished_reason="{reason}"}} {started_at}'
        )
    return "\n".join(lines) + "\n"

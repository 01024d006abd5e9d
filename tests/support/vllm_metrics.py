"""vLLM 0.32.0's `/metrics` for the test vLLM server, driven by the requests it serves.

The engine metrics are defined here as `PrometheusStatLogger` defines them in the vLLM
0.32.0 wheel (`vllm/v1/metrics/loggers.py`, class at line 473): the same names, types,
documentation, labels and histogram buckets, so Prometheus scrapes from the test server
exactly the series a dashboard or an alert rule reads from a real server. Each fact below
names its line there (docs/reference/observability.md lists them all):

- every metric is labelled `model_name` (the `--served-model-name`) and `engine` (`"0"` for
  the one engine a server runs), and every labelled child exists from start-up with value
  0 (`create_metric_per_engine`, lines 499-505), so an idle server already exports them;
- `vllm:request_success` has one child per finish reason (`stop`, `length`, `abort`,
  `error`, `repetition`: `v1/engine/__init__.py` lines 36, 48-69), lines 807-820;
- the histogram buckets are vLLM's (`v1/metrics/buckets.py`: request latency lines 30-52,
  time to first token 57-80, inter-token latency 84-104);
- `/metrics` answers 200 itself, not a 307 to `/metrics/` (`entrypoints/serve/
  instrumentator/metrics.py`, the `path_regex` workaround after line 70), in the text
  format `text/plain; version=0.0.4` (`PrometheusResponse`).

How the requests drive them (the fake has no engine, so this is a model of it, not vLLM's
accounting):
- a request that reaches the engine is a `/v1` generation or embedding request answered
  200; validation errors (4xx) never reach vLLM's engine and are not counted;
- while it is served it counts in `vllm:num_requests_running` (the fake never queues, so
  `vllm:num_requests_waiting` stays 0 unless a test sets it), and its prompt and output
  tokens hold KV cache: `vllm:kv_cache_usage_perc` is the tokens held over
  `kv_cache_tokens` (a fraction: 1 means 100 %, loggers.py line 622);
- the prefix cache works in blocks of 16 tokens (vLLM's default block size,
  `config/cache.py` line 72), each keyed by everything before it: a prompt block already
  seen is a hit (`vllm:prefix_cache_queries` / `_hits` count tokens, lines 662-680);
- on completion: prompt and generation tokens from the answer's `usage`, one
  `vllm:request_success` with the finish reason, time to first token (the first body
  chunk, or the whole answer when not streamed), one inter-token latency per generated
  token after the first (`v1/metrics/stats.py` lines 521-552), end-to-end latency, queue
  time 0;
- the fake never preempts: `vllm:num_preemptions` stays 0 unless a test calls `preempt`.
Not played: the HTTP metrics of prometheus-fastapi-instrumentator, the process and Python
collectors of the global registry, the conditional families (LoRA, speculative decoding,
KV connectors) and the `_by_source`/`_by_reason` breakdowns.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

LABELS = ("model_name", "engine")
"""loggers.py line 499: every engine metric's labels."""
ENGINE = "0"
FINISH_REASONS = ("stop", "length", "abort", "error", "repetition")
"""v1/engine/__init__.py line 36, FINISH_REASON_STRINGS."""
BLOCK_SIZE = 16
"""vLLM's default KV-cache block size (config/cache.py line 72)."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUEST_LATENCY_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0,
                           50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0)  # fmt: skip
TIME_TO_FIRST_TOKEN_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                               0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0,
                               2560.0)  # fmt: skip
INTER_TOKEN_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
                               1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0)  # fmt: skip
ENGINE_PATHS = frozenset({"/v1/chat/completions", "/v1/responses", "/v1/embeddings"})
"""The routes whose requests reach the engine in the test server."""


@dataclass(frozen=True)
class Served:
    """What one answered request tells the metrics."""

    prompt_tokens: int
    generation_tokens: int
    finish_reason: str


class VllmMetrics:
    """The engine metrics of one vLLM server, in a registry of its own (several test servers
    share a process; a real server uses the global registry)."""

    def __init__(self, served_name: str, kv_cache_tokens: int = 4096) -> None:
        self.kv_cache_tokens = kv_cache_tokens
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self._held_tokens = 0
        self._seen_blocks: set[bytes] = set()
        values = (served_name, ENGINE)

        def gauge(name: str, documentation: str) -> Any:
            return Gauge(name, documentation, LABELS, registry=self.registry).labels(*values)

        def counter(name: str, documentation: str) -> Any:
            return Counter(name, documentation, LABELS, registry=self.registry).labels(*values)

        def histogram(name: str, documentation: str, buckets: tuple[float, ...]) -> Any:
            metric = Histogram(name, documentation, LABELS, buckets=buckets, registry=self.registry)
            return metric.labels(*values)

        self.running = gauge(
            "vllm:num_requests_running", "Number of requests in model execution batches."
        )  # line 527
        self.waiting = gauge(
            "vllm:num_requests_waiting", "Number of requests waiting to be processed."
        )  # line 537
        self.kv_cache_usage = gauge(
            "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."
        )  # line 620
        self.prefix_cache_queries = counter(
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in terms of number of queried tokens.",
        )  # line 662
        self.prefix_cache_hits = counter(
            "vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens."
        )  # line 673
        self.preemptions = counter(
            "vllm:num_preemptions", "Cumulative number of preemption from the engine."
        )  # line 739
        self.prompt_tokens = counter(
            "vllm:prompt_tokens", "Number of prefill tokens processed."
        )  # line 748
        self.generation_tokens = counter(
            "vllm:generation_tokens", "Number of generation tokens processed."
        )  # line 799
        success = Counter(
            "vllm:request_success",
            "Count of successfully processed requests.",
            [*LABELS, "finished_reason"],
            registry=self.registry,
        )  # line 808
        self.request_success = {
            reason: success.labels(*values, reason) for reason in FINISH_REASONS
        }
        self.time_to_first_token = histogram(
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            TIME_TO_FIRST_TOKEN_BUCKETS,
        )  # line 931
        self.inter_token_latency = histogram(
            "vllm:inter_token_latency_seconds",
            "Histogram of inter-token latency in seconds.",
            INTER_TOKEN_LATENCY_BUCKETS,
        )  # line 941
        self.e2e_latency = histogram(
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            REQUEST_LATENCY_BUCKETS,
        )  # line 961
        self.queue_time = histogram(
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            REQUEST_LATENCY_BUCKETS,
        )  # line 971

    # ------------------------------------------------------------ what requests do

    @contextmanager
    def serving(self, prompt: list[str]) -> Iterator[None]:
        """A request in the engine: running, its prompt's KV cache held, its prefix looked up."""
        with self._lock:
            self.running.inc()
            self._held_tokens += len(prompt)
            self._update_kv_cache()
            self._look_up_prefix(prompt)
        try:
            yield
        finally:
            with self._lock:
                self.running.dec()
                self._held_tokens -= len(prompt)
                self._update_kv_cache()

    def finished(self, served: Served, first_token_seconds: float, total_seconds: float) -> None:
        """A request the engine finished: its tokens, finish reason and timings."""
        self.prompt_tokens.inc(served.prompt_tokens)
        self.generation_tokens.inc(served.generation_tokens)
        self.request_success[served.finish_reason].inc()
        self.time_to_first_token.observe(first_token_seconds)
        steps = served.generation_tokens - 1
        for _ in range(max(steps, 0)):
            self.inter_token_latency.observe((total_seconds - first_token_seconds) / steps)
        self.e2e_latency.observe(total_seconds)
        self.queue_time.observe(0.0)

    def preempt(self) -> None:
        """A preemption, which the fake never makes by itself (no memory pressure)."""
        self.preemptions.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def _update_kv_cache(self) -> None:
        self.kv_cache_usage.set(min(1.0, self._held_tokens / self.kv_cache_tokens))

    def _look_up_prefix(self, prompt: list[str]) -> None:
        """vLLM's automatic prefix caching, by full blocks each keyed by its whole prefix."""
        full_blocks = len(prompt) // BLOCK_SIZE
        self.prefix_cache_queries.inc(len(prompt))
        digest = hashlib.sha256()
        hits = 0
        for block in range(full_blocks):
            words = prompt[block * BLOCK_SIZE : (block + 1) * BLOCK_SIZE]
            digest.update(json.dumps(words).encode())
            key = digest.digest()
            if key in self._seen_blocks:
                hits += BLOCK_SIZE
            self._seen_blocks.add(key)
        self.prefix_cache_hits.inc(hits)


# ---------------------------------------------------------------- reading requests


def _texts(value: Any) -> list[str]:
    """Every text of a request body field: strings, message contents, content parts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for key in ("content", "text") for text in _texts(value.get(key))]
    return []


def prompt_words(body: Any) -> list[str]:
    """The prompt's tokens as the test server counts them (one per whitespace word)."""
    if not isinstance(body, dict):
        return []
    fields = [body.get("instructions"), body.get("messages"), body.get("input")]
    return [word for field in fields for text in _texts(field) for word in text.split()]


def served_from_answer(path: str, answer: Any) -> Served | None:
    """Tokens and finish reason from a JSON answer or the last event carrying `usage`."""
    if not isinstance(answer, dict):
        return None
    usage = answer.get("usage") or {}
    if path == "/v1/responses":
        incomplete = answer.get("status") == "incomplete"
        return Served(
            usage.get("input_tokens", 0), usage.get("output_tokens", 0),
            "length" if incomplete else "stop",
        )  # fmt: skip
    choices = answer.get("choices") or [{}]
    # vLLM's `tool_calls` finish is an engine `stop` (the parser renames it).
    finish = "length" if choices[0].get("finish_reason") == "length" else "stop"
    return Served(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), finish)


def _stream_answer(chunks: bytes) -> Any:
    """The last server-sent event that carries `usage` (a chat chunk or a Responses
    `response.completed`/`response.incomplete` event's response)."""
    found = None
    for line in chunks.decode(errors="replace").splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        try:
            event = json.loads(line[len("data: ") :])
        except ValueError:
            continue
        event = event.get("response", event) if isinstance(event, dict) else event
        if isinstance(event, dict) and event.get("usage"):
            found = event
    return found


def instrument(app: Asgi, metrics: VllmMetrics) -> Asgi:
    """The app with vLLM's `/metrics` and every answered engine request recorded."""

    async def metrics_route(send: Send) -> None:
        body = metrics.exposition()
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def instrumented(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/metrics" and scope["method"] == "GET":
            await metrics_route(send)
            return
        if path not in ENGINE_PATHS:
            await app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            request = json.loads(body) if body else None
        except ValueError:
            request = None

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        started = time.monotonic()
        status, first_chunk, answer = 0, None, b""

        async def record(message: Message) -> None:
            nonlocal status, first_chunk, answer
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and message.get("body"):
                first_chunk = first_chunk or time.monotonic()
                answer += message["body"]
            await send(message)

        with metrics.serving(prompt_words(request)):
            await app(scope, replay, record)
        if status != 200:
            return
        try:
            parsed = json.loads(answer)
        except ValueError:
            parsed = _stream_answer(answer)
        served = served_from_answer(path, parsed)
        if served is not None:
            ended = time.monotonic()
            metrics.finished(served, (first_chunk or ended) - started, ended - started)

    return instrumented

"""vLLM 0.32.0's engine metrics, as the test vLLM server serves them on ``/metrics``.

They are defined here as ``PrometheusStatLogger`` defines them in the vLLM 0.32.0 wheel
(``vllm/v1/metrics/loggers.py``, class at line 473): the same names, types, documentation,
labels and histogram buckets, so Prometheus scrapes from the test server exactly the series
a dashboard or an alert rule reads from a real server. Each fact below names its line there
(docs/reference/observability.md lists them all):

- ``/metrics`` needs no key: vLLM's auth middleware guards only ``/v1``, ``/v2``,
  ``/inference`` and ``/cohere`` (``entrypoints/serve/middleware/authenticate.py:11,59``);
- every metric is labelled ``model_name`` (the ``--served-model-name``) and ``engine``
  (``"0"`` for the one engine a server runs), and every labelled child exists from start-up
  with value 0 (``create_metric_per_engine``, lines 499-505), so an idle server already
  exports them;
- ``vllm:num_requests_running`` and ``_waiting`` are set every engine iteration (lines
  1147-1153); ``vllm:request_success`` has one child per finish reason (``stop``,
  ``length``, ``abort``, ``error``, ``repetition``: ``v1/engine/__init__.py`` lines 36,
  48-69), lines 807-820, incremented per finished request (lines 1289-1292), and is scraped
  as ``..._total`` with ``..._created``;
- the histogram buckets are vLLM's (``v1/metrics/buckets.py``: request latency lines 30-52,
  time to first token 57-80, inter-token latency 84-104);
- ``/metrics`` answers 200 itself, not a 307 to ``/metrics/`` (``entrypoints/serve/
  instrumentator/metrics.py``, the ``path_regex`` workaround after line 70), in the text
  format ``text/plain; version=0.0.4`` (``PrometheusResponse``).

How the requests the server answers drive them is in ``metering``. The fake has no engine,
so these are models of vLLM's accounting, not vLLM's:

- a request in the engine counts in ``vllm:num_requests_running`` (the fake never queues, so
  ``vllm:num_requests_waiting`` stays 0 unless a test sets it), and its prompt tokens hold
  KV cache: ``vllm:kv_cache_usage_perc`` is the tokens held over ``kv_cache_tokens`` (a
  fraction: 1 means 100 %, line 622);
- the prefix cache works in blocks of 16 tokens (vLLM's default block size,
  ``config/cache.py`` line 72), each keyed by everything before it: a prompt block already
  seen is a hit (``vllm:prefix_cache_queries`` / ``_hits`` count tokens, lines 662-680);
- a finished request adds its prompt and generation tokens, one ``vllm:request_success``
  with its finish reason, its time to first token, one inter-token latency per generated
  token after the first (``v1/metrics/stats.py`` lines 521-552), its end-to-end latency and
  a queue time of 0;
- the fake never preempts: ``vllm:num_preemptions`` stays 0 unless a test calls ``preempt``.

Not played: the HTTP metrics of prometheus-fastapi-instrumentator, the process and Python
collectors of the global registry, the conditional families (LoRA, speculative decoding,
KV connectors) and the ``_by_source``/``_by_reason`` breakdowns.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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


@dataclass(frozen=True)
class Completion:
    """What one finished request tells the metrics."""

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

    def finished(self, done: Completion, first_token_seconds: float, total_seconds: float) -> None:
        """A request the engine finished: its tokens, finish reason and timings."""
        self.prompt_tokens.inc(done.prompt_tokens)
        self.generation_tokens.inc(done.generation_tokens)
        self.request_success[done.finish_reason].inc()
        self.time_to_first_token.observe(first_token_seconds)
        steps = done.generation_tokens - 1
        for _ in range(max(steps, 0)):
            self.inter_token_latency.observe((total_seconds - first_token_seconds) / steps)
        self.e2e_latency.observe(total_seconds)
        self.queue_time.observe(0.0)

    def preempt(self) -> None:
        """A preemption, which the fake never makes by itself (no memory pressure)."""
        self.preemptions.inc()

    def exposition(self) -> bytes:
        """The text ``/metrics`` answers (:data:`CONTENT_TYPE`)."""
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

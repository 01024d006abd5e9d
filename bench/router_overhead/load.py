"""The load: Metis-like requests in a fixed order, sent with a number in flight, each timed;
a warm-up first, then the measured run with the meters read around it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.router_overhead.metering import CpuMeter
from config.services import CHAT, EMBEDDING
from config.settings import Settings

DEFAULT_MIX = "chat:2,responses:1,embeddings:1"
PATHS = {
    "chat": "/chat/completions",
    "responses": "/responses",
    "embeddings": "/embeddings",
}
"""Per request kind, the path under the OpenAI base URL (``.../v1``)."""
SERVICE_OF = {"chat": CHAT.key, "responses": CHAT.key, "embeddings": EMBEDDING.key}
"""Per request kind, the service that answers it."""

SYSTEM_PROMPT = (
    "You are an expert security code reviewer. Answer only from the context below, cite the "
    "files you rely on, and say so when the context does not contain the answer."
)
CODE_CHUNK = (
    "def load_settings(raw: Mapping[str, Any]) -> Settings: "
    '"""Validate a raw stack config and fill in the defaults.""" '
    "merged = with_defaults(raw) problems = list(check_rules(merged)) "
    "if problems: raise ConfigError(problems) "
    "return Settings.model_validate(merged) "
)
OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"
"""LiteLLM's own measure of what it added to a request (total minus the backend call)."""
EMBEDDING_BATCH = 4
"""Chunks per embedding request, as an indexer sends a few chunks of a file at once."""


@dataclass(frozen=True)
class Request:
    kind: str
    """A key of :data:`PATHS`."""
    body: dict[str, Any]


def parse_mix(text: str) -> list[str]:
    """``"chat:2,embeddings:1"`` -> ``["chat", "chat", "embeddings"]`` (one cycle of kinds)."""
    cycle = []
    for part in text.split(","):
        kind, _, weight = part.partition(":")
        kind = kind.strip()
        if kind not in PATHS:
            raise argparse.ArgumentTypeError(f"unknown request kind {kind!r}: use {list(PATHS)}")
        cycle += [kind] * int(weight or 1)
    return cycle


def request_body(kind: str, settings: Settings, index: int) -> dict[str, Any]:
    """A Metis-like request body: a question over some code, or a few chunks to embed."""
    question = f"Question {index}: where is the stack config validated? Context: {CODE_CHUNK * 3}"
    metis = settings.metis
    if kind == "chat":
        return {
            "model": settings.chat.served_name,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": question},
            ],
            "temperature": metis.temperature,
            "max_tokens": metis.query_max_tokens,
        }
    if kind == "responses":
        return {
            "model": settings.chat.served_name,
            "instructions": SYSTEM_PROMPT,
            "input": question,
            "temperature": metis.temperature,
            "max_output_tokens": metis.query_max_tokens,
        }
    return {
        "model": settings.embedding.served_name,
        "input": [f"chunk {index}.{n}: {CODE_CHUNK}" for n in range(EMBEDDING_BATCH)],
        "encoding_format": "base64",  # what the openai SDK (and so LangChain) sends by default
    }


Loads = tuple[list[Request], list[Request]]
"""The warm-up, then the measured load."""


def build_load(settings: Settings, mix: Sequence[str], count: int, start: int = 0) -> list[Request]:
    kinds = itertools.islice(itertools.cycle(mix), count)
    return [
        Request(kind, request_body(kind, settings, index))
        for index, kind in enumerate(kinds, start=start)
    ]


class Target:
    """Where a run sends each kind of request, and with which key."""

    def __init__(
        self,
        name: str,
        bases: Mapping[str, Sequence[str]],
        key: str,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """``bases``: per service (``chat``/``embedding``), OpenAI base URLs (``.../v1``),
        used in turn; ``verify``: what HTTPS clients trust."""
        self.name = name
        self.key = key
        self.verify = verify
        self._bases = {service: itertools.cycle(urls) for service, urls in bases.items()}

    def url(self, kind: str) -> str:
        return next(self._bases[SERVICE_OF[kind]]) + PATHS[kind]


@dataclass
class RunResult:
    name: str
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    """Seconds, of the successful requests."""
    kinds: list[str] = field(default_factory=list)
    """The kind of each entry of :attr:`latencies`."""
    errors: list[str] = field(default_factory=list)
    server_cpu: float | None = None
    """CPU seconds the server under test used during the measured load, where known."""
    reported_overhead_ms: list[float] = field(default_factory=list)
    """LiteLLM's own figure of the time it added, per request (router only)."""
    others_cpu: float | None = None
    """CPU seconds used by processes not of this benchmark during the measured load."""
    connections: list[int] = field(default_factory=list)
    """Client connections held by each proxy worker during the measured load, most first."""

    @property
    def count(self) -> int:
        return len(self.latencies) + len(self.errors)

    @property
    def throughput(self) -> float:
        return self.count / self.elapsed

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU per request, in ms (NaN when unknown)."""
        return float("nan") if self.server_cpu is None else self.server_cpu / self.count * 1000

    @property
    def others_percent(self) -> float:
        """CPU used by other processes, in % of all CPUs over the run (NaN when unknown)."""
        if self.others_cpu is None:
            return float("nan")
        return 100 * self.others_cpu / (self.elapsed * (os.cpu_count() or 1))

    def percentile_ms(self, percent: float, kind: str | None = None) -> float:
        """Nearest-rank percentile of the successful requests (of one kind if given), in ms."""
        values = sorted(
            latency
            for latency, k in zip(self.latencies, self.kinds, strict=True)
            if kind is None or k == kind
        )
        if not values:
            return float("nan")
        rank = max(1, round(percent / 100 * len(values)))
        return values[rank - 1] * 1000


async def run_load(
    clients: Sequence[httpx.AsyncClient], target: Target, load: Sequence[Request]
) -> RunResult:
    """Send every request of ``load``, one in flight per client; time each one."""
    headers = {"Authorization": f"Bearer {target.key}"}
    pending = iter(load)
    result = RunResult(target.name, elapsed=0.0)

    async def worker(client: httpx.AsyncClient) -> None:
        for request in pending:
            started = time.perf_counter()
            try:
                answer = await client.post(
                    target.url(request.kind), json=request.body, headers=headers
                )
            except httpx.HTTPError as error:
                result.errors.append(f"{request.kind}: {type(error).__name__}: {error}")
                continue
            if answer.is_success:
                result.latencies.append(time.perf_counter() - started)
                result.kinds.append(request.kind)
                if (reported := answer.headers.get(OVERHEAD_HEADER)) is not None:
                    result.reported_overhead_ms.append(float(reported))
            else:
                result.errors.append(f"{request.kind}: HTTP {answer.status_code}: {answer.text}")

    began = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    result.elapsed = time.perf_counter() - began
    return result


async def measure(
    target: Target,
    warmup: Sequence[Request],
    load: Sequence[Request],
    concurrency: int,
    meter: CpuMeter,
) -> RunResult:
    """Warm up (unmeasured, must succeed), then run the measured load.

    One ``httpx.AsyncClient`` (one keep-alive connection) per request in flight, not one
    shared pool: measured here, 32 requests through one client's pool took 4.5 s of client
    CPU for 2,000 requests and stalled some for 400-800 ms, so the client, not the server,
    set the direct figures; with a client each, 1.1 s and no stall.
    """
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(timeout=120.0, verify=target.verify))
            for _ in range(concurrency)
        ]
        warm = await run_load(clients, target, warmup)
        if warm.errors:
            raise RuntimeError(f"{target.name}: warm-up failed: {warm.errors[0]}")
        connections = meter.connections()
        before = meter.read()
        result = await run_load(clients, target, load)
        after = meter.read()
    server, ours, busy = (
        None if b is None or a is None else a - b for b, a in zip(before, after, strict=True)
    )
    result.server_cpu = server
    result.connections = connections
    if ours is not None and busy is not None:
        result.others_cpu = max(0.0, busy - ours)
    return result

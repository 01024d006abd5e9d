"""What the LiteLLM router costs: the same load straight to vLLM-like test servers, then
through the real proxy with a stack's rendered config and ``num_workers``.

Run::

    uv run python -m bench.router_overhead [--stack dev] [--requests 2000] [--concurrency 32]

Options for tuning (``--workers``, ``--env``, ``--set``) change only what this run starts;
the printed environment line records them.

Layout of a run:

- The test servers (:class:`testbed.fake_vllm.FakeVllm`, one per replica of the stack)
  run in child processes, one each, so no two of them, nor the client, share an interpreter
  (GIL): both runs are client process -> server process, the second with the proxy's
  processes in between.
- One load, built once: Metis-like requests in a fixed order, by default 2 chat completions
  : 1 Responses API call : 1 embedding request (3:1 chat:embedding), sent with
  ``--concurrency`` requests in flight, each slot with its own ``httpx.AsyncClient``.
  Directly, each request goes to the replicas of its model in turn (as the router's shuffle
  spreads them).
- Each run starts with an unmeasured warm-up (first-request imports, connection pools,
  every proxy worker); then the measured requests. Any non-2xx answer counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.metadata
import importlib.util
import itertools
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
import yaml

from config.loader import load_settings
from config.settings import Settings
from offline.stackfile import find_stack_file, namespace_values
from renderers.litellm import PLAIN_ENV, deployments, render_litellm_config
from testbed.fake_vllm import FakeVllm
from testbed.litellm_proxy import LitellmProxy

ROUTER_KEY = "sk-bench-router-key"
BACKEND_KEY = "bench-backend-key"
DEFAULT_MIX = "chat:2,responses:1,embeddings:1"
PATHS = {
    "chat": "/chat/completions",
    "responses": "/responses",
    "embeddings": "/embeddings",
}
"""Per request kind, the path under the OpenAI base URL (``.../v1``)."""
SERVICE_OF = {"chat": "chat", "responses": "chat", "embeddings": "embedding"}

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
DISTURBED_PERCENT = 10.0
"""Above this share of the machine used by other processes during a run, say so."""
EMBEDDING_BATCH = 4
"""Chunks per embedding request, as an indexer sends a few chunks of a file at once."""


# ------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class Replica:
    """One vLLM server of the stack, as a test server needs it (picklable for the child)."""

    deployment_id: str
    service: str
    served_name: str
    dimension: int | None
    max_model_len: int


def stack_settings(stack: str) -> Settings:
    return load_settings(namespace_values(find_stack_file(stack)))


def stack_replicas(settings: Settings) -> list[Replica]:
    replicas = []
    for deployment in deployments(settings):
        service = settings.services[deployment.service]
        replicas.append(
            Replica(
                deployment_id=deployment.deployment_id,
                service=deployment.service,
                served_name=deployment.model_name,
                dimension=(
                    settings.embedding.dimension if deployment.service == "embedding" else None
                ),
                max_model_len=service.max_model_len,
            )
        )
    return replicas


def point_at_test_servers(config_text: str, urls: Mapping[str, str]) -> str:
    """The rendered router config with each replica's ``api_base`` replaced by its test
    server's URL (by deployment id).

    Rendering with every host at 127.0.0.1 is not enough: the renderer puts each service on
    its fixed vLLM port, which collides when several replicas share one loopback address.
    """
    config = yaml.safe_load(config_text)
    for entry in config["model_list"]:
        entry["litellm_params"]["api_base"] = urls[entry["model_info"]["id"]]
    return yaml.safe_dump(config, sort_keys=False)


def with_overrides(config_text: str, overrides: Sequence[str]) -> str:
    """Apply ``section.key=value`` overrides (value parsed as YAML) to a router config."""
    if not overrides:
        return config_text
    config = yaml.safe_load(config_text)
    for override in overrides:
        dotted, _, raw_value = override.partition("=")
        *parents, leaf = dotted.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(raw_value)
    return yaml.safe_dump(config, sort_keys=False)


# ------------------------------------------------------------------ the test servers


def _serve_replica(replica: Replica, conn: Connection) -> None:
    """Child process: start the replica's test server, send its URL, serve until told."""
    server = FakeVllm(
        replica.served_name,
        BACKEND_KEY,
        dimension=replica.dimension,
        max_model_len=replica.max_model_len,
    )
    try:
        server.start()
        conn.send(server.url)
        conn.recv()  # any message, or EOF when the parent goes away
    except EOFError:
        pass
    finally:
        server.kill()


def _stop(process: BaseProcess, conn: Connection) -> None:
    """A stop message, then SIGTERM, then SIGKILL; returns once the process is gone."""
    with contextlib.suppress(OSError):
        conn.send("stop")
    conn.close()
    process.join(10)
    if process.is_alive():
        process.terminate()
        process.join(5)
    if process.is_alive():
        process.kill()
        process.join()


@dataclass(frozen=True)
class RunningServers:
    urls: dict[str, str]
    """OpenAI base URLs by deployment id."""
    pids: list[int]

    def base_urls(self, replicas: Sequence[Replica]) -> dict[str, list[str]]:
        """Per service (``chat``/``embedding``), its replicas' base URLs."""
        return {
            service: [self.urls[r.deployment_id] for r in replicas if r.service == service]
            for service in ("chat", "embedding")
        }


@contextlib.contextmanager
def running_test_servers(
    replicas: Sequence[Replica], timeout: float = 30.0
) -> Iterator[RunningServers]:
    """Run each replica's test server in its own process, until the block ends.

    One process each because :class:`FakeVllm` serves from a thread: two busy servers in one
    interpreter take turns on the GIL (a 5 ms switch interval), which at 32 requests in
    flight cut the direct throughput and added p99 stalls of ~400 ms.
    """
    context = multiprocessing.get_context("spawn")
    children: list[tuple[BaseProcess, Connection]] = []
    try:
        for replica in replicas:
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_serve_replica,
                args=(replica, child_end),
                name=f"bench-{replica.deployment_id}",
            )
            process.start()
            child_end.close()
            children.append((process, parent_end))
        urls = {}
        for replica, (_, conn) in zip(replicas, children, strict=True):
            try:
                if not conn.poll(timeout):
                    raise RuntimeError(f"{replica.deployment_id}: no test server after {timeout} s")
                urls[replica.deployment_id] = conn.recv()
            except EOFError:
                raise RuntimeError(f"{replica.deployment_id}: the test server exited") from None
        yield RunningServers(urls, [process.pid for process, _ in children if process.pid])
    finally:
        for process, conn in children:
            _stop(process, conn)


# ------------------------------------------------------------------------- the load


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


# ----------------------------------------------------------------- running the load


class Target:
    """Where a run sends each kind of request, and with which key."""

    def __init__(self, name: str, bases: Mapping[str, Sequence[str]], key: str) -> None:
        """``bases``: per service (``chat``/``embedding``), OpenAI base URLs (``.../v1``),
        used in turn."""
        self.name = name
        self.key = key
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


@dataclass(frozen=True)
class CpuMeter:
    """Reads CPU seconds used so far: by the server under test, and by every process of this
    benchmark (client, test servers, proxy), to tell how busy the rest of the machine was."""

    server: Callable[[], float | None]
    ours: Callable[[], float | None]
    connections: Callable[[], list[int]] = list
    """Established client connections per server process, most first (router only)."""

    def read(self) -> tuple[float | None, float | None, float | None]:
        return self.server(), self.ours(), machine_busy_seconds()


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
            await stack.enter_async_context(httpx.AsyncClient(timeout=120.0))
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


def _processes() -> Iterator[tuple[int, int, int]]:
    """``(pid, process group id, CPU ticks used)`` of every live process, from ``/proc``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # After "pid (comm) ": state ppid pgrp ..., utime and stime 12th and 13th.
        fields = stat[stat.rindex(")") + 2 :].split()
        yield int(entry.name), int(fields[2]), int(fields[11]) + int(fields[12])


def cpu_seconds(pids: Collection[int] = (), pgids: Collection[int] = ()) -> float | None:
    """CPU seconds (user + system) used so far by the live processes with these ids or in
    these process groups; ``None`` where there is no ``/proc``."""
    if not Path("/proc").is_dir():
        return None
    ticks = sum(t for pid, pgid, t in _processes() if pid in pids or pgid in pgids)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """CPU seconds all CPUs have spent busy since boot (``/proc/stat``), if known."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def connections_per_process(pgid: int, port: int) -> list[int]:
    """How many established connections to local ``port`` each process of a process group
    holds (those holding any, most first), from ``/proc``; empty where unknown.

    With several uvicorn workers sharing one listening socket, whichever worker is in
    ``accept`` takes a burst of new connections, and keep-alive keeps them there.
    """
    if not Path("/proc").is_dir():
        return []
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in (pid for pid, group, _ in _processes() if group == pgid):
        with contextlib.suppress(OSError):
            fds = Path(f"/proc/{pid}/fd").iterdir()
            held = sum(1 for fd in fds if _readlink(fd) in inodes)
            if held:
                counts.append(held)
    return sorted(counts, reverse=True)


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


# ---------------------------------------------------------------------------- report


def header_line(args: argparse.Namespace, warmup_count: int) -> str:
    chat = sum(SERVICE_OF[kind] == "chat" for kind in args.mix)
    embedding = len(args.mix) - chat
    return (
        f"router overhead: stack {args.stack}, {args.requests} requests after {warmup_count} "
        f"warm-up, concurrency {args.concurrency}, mix {' '.join(args.mix)} "
        f"(chat:embedding {chat}:{embedding})"
    )


def environment_line(
    settings: Settings, workers: int, env: Mapping[str, str], overrides: Sequence[str]
) -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    changed_env = {k: v for k, v in env.items() if PLAIN_ENV.get(k) != v}
    parts = [
        f"{cpus} CPUs ({usable} usable)",
        f"Python {platform.python_version()}",
        f"litellm {importlib.metadata.version('litellm')}",
        f"httpx {importlib.metadata.version('httpx')} (client)",
        f"uvicorn {importlib.metadata.version('uvicorn')} ({http_parser()} parser)",
        f"router workers {workers}"
        + (" (stack)" if workers == settings.router.num_workers else " (overridden)"),
        f"LITELLM_LOG={env.get('LITELLM_LOG', PLAIN_ENV.get('LITELLM_LOG'))}",
    ]
    if changed_env:
        parts.append("env " + " ".join(f"{k}={v}" for k, v in sorted(changed_env.items())))
    if overrides:
        parts.append("config " + " ".join(overrides))
    return "environment: " + ", ".join(parts)


def http_parser() -> str:
    """The HTTP/1.1 parser uvicorn picks here by default, as the proxy's workers do."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11, pure Python"


def result_rows(results: Sequence[RunResult], by_kind: bool) -> list[str]:
    rows = [
        f"{'run':<22}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server CPU ms/req':>19}{'others %':>10}"
    ]
    for result in results:
        rows.append(
            f"{result.name:<22}{result.count:>9}{len(result.errors):>8}"
            f"{result.throughput:>9.1f}{result.percentile_ms(50):>9.1f}"
            f"{result.percentile_ms(99):>9.1f}{result.server_cpu_ms:>19.2f}"
            f"{result.others_percent:>10.0f}"
        )
        if by_kind:
            for kind in PATHS:
                n = result.kinds.count(kind)
                if n:
                    rows.append(
                        f"{'  ' + kind:<22}{n:>9}{'':>8}{'':>9}"
                        f"{result.percentile_ms(50, kind):>9.1f}"
                        f"{result.percentile_ms(99, kind):>9.1f}"
                    )
    rows.append(
        "(server CPU: of the test servers' processes for direct, of the proxy's processes "
        "for router; others %: CPU used by processes outside this benchmark, in % of the "
        "machine; both during the measured load)"
    )
    return rows


def comparison_line(direct: RunResult, router: RunResult) -> str:
    ratio = router.throughput / direct.throughput
    added_p50 = router.percentile_ms(50) - direct.percentile_ms(50)
    added_p99 = router.percentile_ms(99) - direct.percentile_ms(99)
    line = (
        f"router/direct: throughput x{ratio:.3f}; "
        f"added latency p50 +{added_p50:.1f} ms, p99 +{added_p99:.1f} ms"
    )
    if reported := sorted(router.reported_overhead_ms):
        median = reported[len(reported) // 2]
        line += f" (LiteLLM's own {OVERHEAD_HEADER} p50: {median:.1f} ms)"
    return line


# ------------------------------------------------------------------------------ main


def name_value(text: str) -> str:
    """An argparse type: ``NAME=VALUE`` (kept as text)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.router_overhead", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stack", choices=["dev", "prod"], default="dev")
    parser.add_argument("--requests", type=int, default=2000, help="measured, per run")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument(
        "--warmup", type=int, default=None, help="unmeasured requests first (default: 8 x conc.)"
    )
    parser.add_argument(
        "--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX), help=f"default {DEFAULT_MIX}"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="proxy --num_workers (default: the stack's)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        type=name_value,
        metavar="NAME=VALUE",
        help="extra proxy environment, e.g. LITELLM_LOG=ERROR (repeatable)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        type=name_value,
        metavar="SECTION.KEY=YAML",
        help="override the rendered config, e.g. litellm_settings.callbacks=[] (repeatable)",
    )
    parser.add_argument("--by-kind", action="store_true", help="also p50/p99 per request kind")
    parser.add_argument(
        "--skip-direct", action="store_true", help="only the router run (for tuning sweeps)"
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    return args


def router_config(settings: Settings, servers: RunningServers, overrides: Sequence[str]) -> str:
    """The stack's rendered router config, pointed at the test servers, with overrides."""
    rendered = render_litellm_config(settings, dict.fromkeys(settings.hosts, "127.0.0.1"))
    return with_overrides(point_at_test_servers(rendered, servers.urls), overrides)


def run_direct(
    servers: RunningServers, replicas: Sequence[Replica], args: argparse.Namespace, loads: Loads
) -> RunResult:
    target = Target("direct (test server)", servers.base_urls(replicas), BACKEND_KEY)
    meter = CpuMeter(
        server=functools.partial(cpu_seconds, servers.pids),
        ours=functools.partial(cpu_seconds, pgids=[os.getpgid(0)]),
    )
    return asyncio.run(measure(target, *loads, args.concurrency, meter))


def run_router(
    config: str, workers: int, env: Mapping[str, str], args: argparse.Namespace, loads: Loads
) -> RunResult:
    proxy = LitellmProxy(
        config, master_key=ROUTER_KEY, backend_key=BACKEND_KEY, num_workers=workers, env=env
    )
    with proxy:
        print(f"router ready in {proxy.startup_seconds:.1f} s", flush=True)
        bases = {"chat": [proxy.base_url], "embedding": [proxy.base_url]}
        target = Target(f"router ({workers} workers)", bases, ROUTER_KEY)
        assert proxy.pid is not None
        meter = CpuMeter(
            server=functools.partial(cpu_seconds, pgids=[proxy.pid]),
            ours=functools.partial(cpu_seconds, pgids=[os.getpgid(0), proxy.pid]),
            connections=functools.partial(connections_per_process, proxy.pid, proxy.port),
        )
        return asyncio.run(measure(target, *loads, args.concurrency, meter))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = stack_settings(args.stack)
    workers = args.workers if args.workers is not None else settings.router.num_workers
    extra_env = dict(item.split("=", 1) for item in args.env)
    warmup_count = args.warmup if args.warmup is not None else 8 * args.concurrency
    loads = (
        build_load(settings, args.mix, warmup_count, start=args.requests),
        build_load(settings, args.mix, args.requests),
    )
    replicas = stack_replicas(settings)
    print(header_line(args, warmup_count))
    print(environment_line(settings, workers, PLAIN_ENV | extra_env, args.set), flush=True)

    results = []
    with running_test_servers(replicas) as servers:
        if not args.skip_direct:
            results.append(run_direct(servers, replicas, args, loads))
        config = router_config(settings, servers, args.set)
        results.append(run_router(config, workers, extra_env, args, loads))

    print()
    print("\n".join(result_rows(results, args.by_kind)))
    if len(results) == 2:
        print(comparison_line(*results))
    for result in results:
        if result.connections:
            spread = ", ".join(map(str, result.connections))
            print(
                f"{result.name}: client connections per worker process: {spread} "
                f"(of {args.concurrency})"
            )
        if result.others_percent > DISTURBED_PERCENT:
            print(
                f"WARNING: other processes used {result.others_percent:.0f}% of the machine "
                f"during the {result.name} run: rerun when the machine is quiet."
            )
        for error in result.errors[:3]:
            print(f"{result.name} error: {error[:300]}")
    return 1 if any(result.errors for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())

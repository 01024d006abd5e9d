"""What the benchmark prints: the run's settings, a row per run, the comparison, and what
may have skewed the figures."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
from collections.abc import Mapping, Sequence

from bench.router_overhead.handshake import HandshakeCost
from bench.router_overhead.load import OVERHEAD_HEADER, PATHS, SERVICE_OF, RunResult
from config.services import CHAT
from config.settings import Settings
from renderers.litellm import PLAIN_ENV

DISTURBED_PERCENT = 10.0
"""Above this share of the machine used by other processes during a run, say so."""


def header_line(args: argparse.Namespace, warmup_count: int) -> str:
    chat = sum(SERVICE_OF[kind] == CHAT.key for kind in args.mix)
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


def https_line(plain: RunResult, https: RunResult) -> str:
    """What serving TLS adds to the router, on kept-alive connections."""
    added_p50 = https.percentile_ms(50) - plain.percentile_ms(50)
    added_p99 = https.percentile_ms(99) - plain.percentile_ms(99)
    return (
        f"https/http router: throughput x{https.throughput / plain.throughput:.3f}; "
        f"added latency p50 {added_p50:+.2f} ms, p99 {added_p99:+.2f} ms (keep-alive)"
    )


def handshake_line(cost: HandshakeCost) -> str:
    return (
        f"new connection: TCP connect p50 {cost.connect_ms:.2f} ms, TCP + TLS handshake p50 "
        f"{cost.tls_ms:.2f} ms: handshake +{cost.handshake_ms:.2f} ms (once per connection)"
    )


def notes(results: Sequence[RunResult], concurrency: int) -> list[str]:
    """Per run: how connections spread over the proxy's workers, a warning when others
    used the machine, and its first errors."""
    lines = []
    for result in results:
        if result.connections:
            spread = ", ".join(map(str, result.connections))
            lines.append(
                f"{result.name}: client connections per worker process: {spread} (of {concurrency})"
            )
        if result.others_percent > DISTURBED_PERCENT:
            lines.append(
                f"WARNING: other processes used {result.others_percent:.0f}% of the machine "
                f"during the {result.name} run: rerun when the machine is quiet."
            )
        lines += [f"{result.name} error: {error[:300]}" for error in result.errors[:3]]
    return lines

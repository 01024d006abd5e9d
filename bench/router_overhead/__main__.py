"""`python -m bench.router_overhead`: options, then the direct and the router run."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import ssl
import sys
from collections.abc import Mapping, Sequence

from bench.router_overhead import __doc__ as package_doc
from bench.router_overhead.handshake import HandshakeCost, handshake_cost
from bench.router_overhead.load import (
    DEFAULT_MIX,
    Loads,
    RunResult,
    Target,
    build_load,
    measure,
    parse_mix,
)
from bench.router_overhead.metering import CpuMeter, connections_per_process, cpu_seconds
from bench.router_overhead.report import (
    comparison_line,
    environment_line,
    handshake_line,
    header_line,
    https_line,
    notes,
    result_rows,
)
from bench.router_overhead.servers import (
    BACKEND_KEY,
    ROUTER_KEY,
    Replica,
    RunningServers,
    router_config,
    running_test_servers,
    stack_replicas,
)
from config.loader import load_settings
from config.services import SERVICES
from config.settings import Settings
from offline.stackfile import find_stack_file, namespace_values
from renderers.litellm import PLAIN_ENV
from testbed.certificates import TlsFiles, loopback_certificates
from testbed.litellm_proxy import LitellmProxy


def name_value(text: str) -> str:
    """An argparse type: ``NAME=VALUE`` (kept as text)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.router_overhead", description=package_doc.split("\n\n")[0]
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
    parser.add_argument(
        "--https",
        action="store_true",
        help="also a router run over HTTPS (the stack's certificate, test mode), compared "
        "with the plain one, and the cost of a TLS handshake",
    )
    parser.add_argument("--granian", action="store_true", help="run the proxy with --run_granian")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    return args


def stack_settings(stack: str) -> Settings:
    return load_settings(namespace_values(find_stack_file(stack)))


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
    config: str,
    workers: int,
    env: Mapping[str, str],
    args: argparse.Namespace,
    loads: Loads,
    tls: TlsFiles | None = None,
) -> tuple[RunResult, HandshakeCost | None]:
    proxy = LitellmProxy(
        config,
        master_key=ROUTER_KEY,
        backend_key=BACKEND_KEY,
        num_workers=workers,
        env=env,
        tls=tls,
        extra_args=["--run_granian"] if args.granian else [],
    )
    with proxy:
        print(f"router ready in {proxy.startup_seconds:.1f} s", flush=True)
        bases = {key: [proxy.base_url] for key in SERVICES}
        name = f"router ({workers} workers{', granian' if args.granian else ''})"
        if tls is not None:
            name = f"https ({workers} workers{', granian' if args.granian else ''})"
        target = Target(name, bases, ROUTER_KEY, verify=proxy.verify())
        assert proxy.pid is not None
        meter = CpuMeter(
            server=functools.partial(cpu_seconds, pgids=[proxy.pid]),
            ours=functools.partial(cpu_seconds, pgids=[os.getpgid(0), proxy.pid]),
            connections=functools.partial(connections_per_process, proxy.pid, proxy.port),
        )
        result = asyncio.run(measure(target, *loads, args.concurrency, meter))
        context = proxy.verify()
        handshake = (
            handshake_cost("127.0.0.1", proxy.port, context)
            if isinstance(context, ssl.SSLContext)
            else None
        )
        return result, handshake


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
        config = router_config(settings, servers.urls, args.set)
        results.append(run_router(config, workers, extra_env, args, loads)[0])
        if args.https:
            tls = loopback_certificates()
            https, handshake = run_router(config, workers, extra_env, args, loads, tls)
            results.append(https)

    print()
    print("\n".join(result_rows(results, args.by_kind)))
    if not args.skip_direct:
        print(comparison_line(results[0], results[1]))
    if args.https and handshake is not None:
        print(https_line(results[-2], results[-1]))
        print(handshake_line(handshake))
    for line in notes(results, args.concurrency):
        print(line)
    return 1 if any(result.errors for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""What a new HTTPS connection costs: TCP connect plus TLS handshake, against TCP alone."""

from __future__ import annotations

import socket
import ssl
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class HandshakeCost:
    connect_ms: float
    """Median TCP connect."""
    tls_ms: float
    """Median TCP connect + TLS handshake."""

    @property
    def handshake_ms(self) -> float:
        return self.tls_ms - self.connect_ms


def _connect_ms(host: str, port: int, context: ssl.SSLContext | None) -> float:
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=10) as raw:
        if context is None:
            return (time.perf_counter() - start) * 1000
        with context.wrap_socket(raw, server_hostname=host):
            return (time.perf_counter() - start) * 1000


def handshake_cost(
    host: str, port: int, context: ssl.SSLContext, count: int = 200
) -> HandshakeCost:
    """Medians over `count` fresh connections each way (no session resumption: a new
    context-less socket each time, as a new client process would)."""
    plain = [_connect_ms(host, port, None) for _ in range(count)]
    tls = [_connect_ms(host, port, context) for _ in range(count)]
    return HandshakeCost(statistics.median(plain), statistics.median(tls))

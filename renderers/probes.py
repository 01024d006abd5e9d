"""Container health checks: an HTTP GET from inside the container.

The vLLM and LiteLLM images ship Python, not necessarily curl, so their probe is a Python
one-liner; Prometheus, Grafana and node-exporter ship busybox's wget.

Durations are written the way the Docker provider reads them back from Docker: Go's
`time.Duration.String()`, so 60 s is "1m0s" and 20 min "20m0s". Any other spelling shows
as a change on every `pulumi up` (docs/reference/docker-provider.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


def go_duration(seconds: int) -> str:
    """Go's canonical text of a whole number of seconds: 30 -> "30s", 60 -> "1m0s",
    3600 -> "1h0m0s" (src/time/time.go, `Duration.String`: leading zero units are left
    out, every unit after the first is written, zero is "0s")."""
    if seconds < 0:
        raise ValueError(f"a health check duration is never negative: {seconds}")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@dataclass(frozen=True)
class HttpProbe:
    port: int
    path: str
    interval_seconds: int = 30
    timeout_seconds: int = 10
    retries: int = 3
    start_period_seconds: int = 60
    """How long failures do not count: a vLLM server downloads and loads its model first."""
    client: Literal["python3", "wget"] = "python3"
    """What the image has to make the request: Python (vLLM, LiteLLM) or busybox's wget
    (Prometheus, Grafana, node-exporter)."""
    address: str = "127.0.0.1"

    @property
    def test(self) -> list[str]:
        url = f"http://{self.address}:{self.port}{self.path}"
        if self.client == "wget":
            return ["CMD", "wget", "-q", "-T", "5", "-O", "/dev/null", url]
        code = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=5)"
        return ["CMD", "python3", "-c", code]

    @property
    def interval(self) -> str:
        return go_duration(self.interval_seconds)

    @property
    def timeout(self) -> str:
        return go_duration(self.timeout_seconds)

    @property
    def start_period(self) -> str:
        return go_duration(self.start_period_seconds)

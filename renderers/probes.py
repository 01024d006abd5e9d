"""Container health checks: an HTTP(S) GET from inside the container.

The vLLM and LiteLLM images ship Python, not necessarily curl, so their probe is a Python
one-liner; Prometheus, Grafana and node-exporter ship busybox's wget. Over HTTPS (the
router) it checks that the server's certificate chains to the stack's CA, not the name: the
certificate names the public address, the probe calls 127.0.0.1.

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


def probe_code(port: int, path: str, ca_file: str | None, address: str = "127.0.0.1") -> str:
    """The Python one-liner: exits 0 on a 2xx/3xx answer, non-zero otherwise."""
    if ca_file is None:
        url = f"http://{address}:{port}{path}"
        return f"import urllib.request; urllib.request.urlopen({url!r}, timeout=5)"
    url = f"https://{address}:{port}{path}"
    return (
        f"import ssl, urllib.request; c = ssl.create_default_context(cafile={ca_file!r}); "
        f"c.check_hostname = False; urllib.request.urlopen({url!r}, timeout=5, context=c)"
    )


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
    ca_file: str | None = None
    """Call over HTTPS, trusting this CA (a path inside the container; Python only)."""

    @property
    def test(self) -> list[str]:
        if self.client == "wget":
            url = f"http://{self.address}:{self.port}{self.path}"
            return ["CMD", "wget", "-q", "-T", "5", "-O", "/dev/null", url]
        code = probe_code(self.port, self.path, self.ca_file, self.address)
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

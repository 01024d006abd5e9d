"""Container health checks: an HTTP GET from inside the container.

Both images ship Python, not necessarily curl, so the probe is a Python one-liner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpProbe:
    port: int
    path: str
    interval: str = "30s"
    timeout: str = "10s"
    retries: int = 3
    start_period: str = "60s"
    """How long failures do not count: a vLLM server downloads and loads its model first."""

    @property
    def test(self) -> list[str]:
        url = f"http://127.0.0.1:{self.port}{self.path}"
        code = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=5)"
        return ["CMD", "python3", "-c", code]

"""Debian's real Prometheus, promtool and node_exporter for tests.

`tools/prometheus/install.sh` unpacks Debian's packages into the checkout once (a few
seconds; network only the first time), starting no service. `PrometheusServer` runs the
rendered config unchanged from a temporary folder (its relative file paths resolve there),
bound to 127.0.0.1, as a `testbed.server_process.ServerProcess`, and answers PromQL through
the HTTP API.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from testbed.lifecycle import HOST
from testbed.server_process import ServerProcess
from tests.support.stacks import ROOT

INSTALL = ROOT / "tools" / "prometheus" / "install.sh"


@cache
def prometheus_bin() -> Path:
    """The folder holding `prometheus`, `promtool` and `prometheus-node-exporter`."""
    done = subprocess.run(
        ["bash", str(INSTALL)], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{INSTALL} failed:\n{done.stdout}\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(prometheus_bin() / "promtool"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_files(folder: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


class PrometheusServer(ServerProcess):
    """`prometheus --config.file=prometheus.yml` in a temporary folder holding the given
    files, listening on 127.0.0.1:port, its data in the same folder."""

    start_timeout = 60.0
    poll_seconds = 0.2
    log_name = "prometheus.log"
    folder_prefix = "prometheus-"

    def __init__(self, files: Mapping[str, str], *, port: int, config: str = "prometheus.yml"):
        super().__init__()
        self.files = dict(files)
        self.port = port
        self.config = config

    def __str__(self) -> str:
        return f"prometheus on {HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ready_url(self) -> str:
        return f"{self.url}/-/ready"

    def _command(self) -> list[str]:
        return [
            str(prometheus_bin() / "prometheus"),
            f"--config.file={self.config}",
            "--storage.tsdb.path=data",
            f"--web.listen-address={HOST}:{self.port}",
        ]

    def _files(self) -> dict[str, str]:
        return self.files

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self._remove_workdir()

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar as one sample) of a PromQL expression, now."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = answer.json()
        if body.get("status") != "success":
            raise AssertionError(f"query {expr!r} failed: {body}")
        data = body["data"]
        return data["result"] if data["resultType"] == "vector" else [{"value": data["result"]}]

    def targets(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/targets", timeout=10)
        return answer.json()["data"]["activeTargets"]


@contextlib.contextmanager
def node_exporter(command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """Debian's node_exporter with the rendered flags, until the block ends."""
    process = subprocess.Popen(
        [str(prometheus_bin() / "prometheus-node-exporter"), *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)

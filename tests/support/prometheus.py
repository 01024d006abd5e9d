"""Debian's real Prometheus, promtool and node_exporter for tests.

`tools/prometheus/install.sh` unpacks Debian's packages into the checkout once (a few
seconds; network only the first time), starting no service. `PrometheusServer` runs the
rendered config unchanged from a temporary folder (its relative file paths resolve there),
bound to 127.0.0.1, and answers PromQL through the HTTP API.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

ROOT = Path(__file__).resolve().parents[2]
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


class PrometheusServer:
    """`prometheus --config.file=prometheus.yml` in a temporary folder holding the given
    files, listening on 127.0.0.1:port, its data in the same folder."""

    def __init__(self, files: Mapping[str, str], *, port: int, config: str = "prometheus.yml"):
        self.files = dict(files)
        self.port = port
        self.config = config
        self._folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Self:
        self._folder = Path(tempfile.mkdtemp(prefix="prometheus-"))
        write_files(self._folder, self.files)
        with (self._folder / "prometheus.log").open("wb") as log:
            self._process = subprocess.Popen(
                [
                    str(prometheus_bin() / "prometheus"),
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self._folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                cwd=self._folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited:\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus was not ready after {timeout} s:\n{self.log()}")
            time.sleep(0.2)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def log(self) -> str:
        if self._folder is None:
            return ""
        return (self._folder / "prometheus.log").read_text(errors="replace")

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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


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

"""A test vLLM server in a child process of its own, for load that one interpreter cannot
carry: two busy servers in one interpreter take turns on the GIL (a 5 ms switch interval),
which at 32 requests in flight cut the benchmark's direct throughput and added p99 stalls
of ~400 ms."""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from testbed.fake_vllm.server import FakeVllm
from testbed.lifecycle import ProcessServer


def _serve(served_name: str, options: dict[str, Any], conn: Connection) -> None:
    """Child process: start the server, send its URL, serve until told (or the parent goes)."""
    server = FakeVllm(served_name, **options)
    try:
        server.start()
        conn.send(server.url)
        conn.recv()  # any message, or EOF when the parent goes away
    except EOFError:
        pass
    finally:
        server.kill()


class FakeVllmProcess(ProcessServer):
    """A :class:`FakeVllm` (same arguments) served from a spawned child process."""

    start_timeout = 30.0

    def __init__(self, served_name: str, *, name: str = "fake-vllm", **options: Any) -> None:
        self.served_name, self.name, self.options = served_name, name, options
        self.url: str | None = None
        """The server's OpenAI base URL, once it is ready."""
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def __str__(self) -> str:
        return f"{self.name} (a FakeVllm process)"

    def _launch(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(self.served_name, self.options, child_end), name=self.name
        )
        self._process.start()
        child_end.close()

    def _ready(self) -> bool:
        assert self._conn is not None
        with contextlib.suppress(EOFError):
            if self.url is None and self._conn.poll():
                self.url = self._conn.recv()
        return self.url is not None

    def _ended(self) -> str | None:
        process = self._process
        return None if process is None or process.is_alive() else "exited"

    def stop(self) -> None:
        """A stop message, then SIGTERM, then SIGKILL; returns once the process is gone."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        self.url = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send("stop")
            conn.close()
        if process is None:
            return
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join()

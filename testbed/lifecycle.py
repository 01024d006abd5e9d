"""One lifecycle for every server the tests and the benchmark run in the background (a test
vLLM server in a thread or in a process of its own, the LiteLLM proxy in a process group):
`start` returns once the server answers and cleans up if it never does, `stop` ends it
whatever happened, and a `with` block does both.
"""

from __future__ import annotations

import socket
import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Protocol, Self

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port on the host that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerStartError(RuntimeError):
    """A background server ended, or did not become ready in time; the message says which
    (and ends with its log where it keeps one)."""


class BackgroundServer(ABC):
    """A server between `start` and `stop`. Subclasses say how to launch it, when it is
    ready, why it ended early, and how to stop it."""

    start_timeout: float = 10.0
    """Seconds `start` waits for the server to be ready."""
    poll_seconds: float = 0.05
    """How often `start` asks whether it is ready."""
    startup_seconds: float | None = None
    """Seconds from the launch to the first ready answer, once started."""

    @property
    @abstractmethod
    def running(self) -> bool:
        """Whether it was started and not stopped since."""

    @abstractmethod
    def _launch(self) -> None:
        """Set the server going; return at once."""

    @abstractmethod
    def _ready(self) -> bool:
        """Whether it answers yet."""

    @abstractmethod
    def _ended(self) -> str | None:
        """Why it stopped before it was ready (e.g. `exited with 1`), or None while it runs."""

    @abstractmethod
    def stop(self) -> None:
        """End it and release what it holds; harmless when it is not running."""

    def log_tail(self) -> str:
        """The end of its log, for error messages ("" when it keeps none)."""
        return ""

    def start(self, timeout: float | None = None) -> Self:
        """Launch it and return once it is ready (within `timeout`, default
        `start_timeout`); stop it and raise ServerStartError if it is not."""
        if self.running:
            raise RuntimeError(f"{self} is already running")
        timeout = self.start_timeout if timeout is None else timeout
        started = time.monotonic()
        self._launch()
        try:
            self._wait_ready(started + timeout, timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_ready(self, deadline: float, timeout: float) -> None:
        while True:
            if (ended := self._ended()) is not None:
                raise ServerStartError(self._with_log(f"{self} {ended} before it was ready"))
            if self._ready():
                return
            if time.monotonic() > deadline:
                raise ServerStartError(self._with_log(f"{self} was not ready after {timeout:g} s"))
            time.sleep(self.poll_seconds)

    def _with_log(self, message: str) -> str:
        tail = self.log_tail()
        return f"{message}:\n{tail}" if tail else message

    def __enter__(self) -> Self:
        """Start it (`with Server(...) as server:`)."""
        return self.start()

    def close(self) -> None:
        """What leaving a `with` block does, whatever happened: stop it."""
        self.stop()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Process(Protocol):
    """What a `subprocess.Popen` and a `multiprocessing` process both have."""

    @property
    def pid(self) -> int | None: ...


class ProcessServer(BackgroundServer):
    """A background server in a process of its own, held in `_process` while it runs."""

    _process: _Process | None = None

    @property
    def running(self) -> bool:
        """Whether it was started and not stopped since (it may have exited meanwhile)."""
        return self._process is not None

    @property
    def pid(self) -> int | None:
        """The process id (for a process group leader, the group's id too), while it runs."""
        return self._process.pid if self._process is not None else None

"""The test vLLM server's lifecycle: uvicorn in a daemon thread on a socket reserved at
construction (so its URL is known before it starts), started, stopped gracefully, or killed
like a crashed vLLM; and what a test sets and reads on it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from typing import Any

import uvicorn

from testbed.fake_vllm.flags import VllmFlags
from testbed.fake_vllm.metrics import VllmMetrics
from testbed.fake_vllm.protocol import RecordedRequest
from testbed.fake_vllm.routing import build_app
from testbed.fake_vllm.tools import ToolArguments, smallest_instance
from testbed.lifecycle import HOST, BackgroundServer


class FakeVllm(BackgroundServer):
    """A vLLM-like server on ``127.0.0.1``, run by uvicorn in a daemon thread.

    The port is reserved at construction, so :attr:`url` is known (and refuses
    connections) before :meth:`start`. It can be started again after
    :meth:`stop` or :meth:`kill`, on the same port.

    Example::

        with FakeVllm("Qwen/Qwen2.5-Coder-7B-Instruct", api_key="sk-backend") as vllm:
            openai.OpenAI(base_url=vllm.url, api_key="sk-backend").models.list()
    """

    poll_seconds = 0.01

    def __init__(
        self,
        served_name: str,
        api_key: str | None = None,
        *,
        dimension: int | None = None,
        max_model_len: int = 4096,
        reply: str = "Hello from the fake vLLM server.",
        host: str = HOST,
        port: int = 0,
        tool_parser: str | None = None,
        tool_strict_level: str = "auto",
        tool_arguments: ToolArguments | None = None,
    ) -> None:
        """Describe the server; nothing listens until :meth:`start`.

        Args:
            served_name: the ``--served-model-name``; other names get 404.
            api_key: the ``--api-key``; ``None`` leaves ``/v1`` open.
            dimension: makes it an embedding (pooling) server returning vectors of
                this length; ``None`` makes it a chat server.
            max_model_len: the ``--max-model-len`` (in whitespace words).
            reply: the assistant text of every chat/responses answer.
            host, port: where to listen; any 127.x.y.z address is loopback, so each
                "host" of a stack can get its own address and keep its real vLLM port.
            tool_parser: the parser vLLM would build (:attr:`VllmFlags.tool_parser`);
                ``None`` plays a server without the tool-call flags.
            tool_strict_level: the ``--tool-strict-level``.
            tool_arguments: scripts the arguments of its function calls.
        """
        self.served_name = served_name
        self.api_key = api_key
        self.dimension = dimension
        self.max_model_len = max_model_len
        self.reply = reply
        self.tool_parser = tool_parser
        self.tool_strict_level = tool_strict_level
        self.tool_arguments: ToolArguments = tool_arguments or (
            lambda call: smallest_instance(call.parameters)
        )
        """Called for every function call the server makes; settable at any time."""
        self.fail_status: int | None = None
        """When set, every authorised ``/v1`` request is answered with this status."""
        self.stall_seconds: float = 0.0
        """When positive, every authorised ``/v1`` request first sleeps this long."""
        self.requests: list[RecordedRequest] = []
        """Every ``/v1`` request received so far, in order (401s and faults included)."""
        self.host = host
        self._socket: socket.socket | None = self._bind(host, port)
        self._port: int = self._socket.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.metrics = VllmMetrics(served_name, kv_cache_tokens=max_model_len)
        """vLLM's engine metrics, served on ``/metrics`` and driven by the answered requests."""
        self._app = build_app(self)

    @classmethod
    def from_command(
        cls,
        command: Sequence[str],
        api_key: str | None = None,
        *,
        dimension: int | None = None,
        host: str = HOST,
        port: int = 0,
        tool_arguments: ToolArguments | None = None,
    ) -> FakeVllm:
        """The server a rendered vLLM container command would start.

        Raises:
            VllmLaunchError: vLLM would refuse to start with these flags.
        """
        flags = VllmFlags.parse(command)
        if flags.pooling != (dimension is not None):
            raise ValueError("a pooling (embedding) server needs its dimension; a chat server none")
        return cls(
            flags.served_name,
            api_key,
            dimension=dimension,
            max_model_len=flags.max_model_len or 4096,
            host=host,
            port=port,
            tool_parser=flags.tool_parser,
            tool_strict_level=flags.tool_strict_level,
            tool_arguments=tool_arguments,
        )

    # ----------------------------------------------------------------- public API

    def __str__(self) -> str:
        return f"FakeVllm on {self.host}:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port on :attr:`host`."""
        return self._port

    @property
    def url(self) -> str:
        """The OpenAI base URL, ``http://HOST:PORT/v1`` (what LiteLLM's ``api_base`` takes)."""
        return f"http://{self.host}:{self._port}/v1"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def served(self, path: str | None = None) -> int:
        """How many ``/v1`` requests (to ``path`` if given) got a 2xx answer."""
        return sum(
            1
            for r in list(self.requests)
            if r.status is not None and r.status < 300 and (path is None or r.path == path)
        )

    def bodies(self, path: str) -> list[Any]:
        """The JSON bodies of the requests received on ``path``, in order."""
        return [r.body for r in list(self.requests) if r.path == path]

    def _launch(self) -> None:
        """Serve in a background thread, on the reserved socket (or the same port again)."""
        sock = self._socket if self._socket is not None else self._bind(self.host, self._port)
        self._socket = None
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run,
            args=(self._server, sock),
            name=f"fake-vllm-{self._port}",
            daemon=True,
        )
        self._thread.start()

    def _ready(self) -> bool:
        return self._server is not None and self._server.started

    def _ended(self) -> str | None:
        return None if self.running else "stopped serving"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully: refuse new connections, let requests in flight finish (up to 2 s)."""
        if self._server is not None:
            self._server.should_exit = True
        self._join(timeout)

    def kill(self, timeout: float = 10.0) -> None:
        """Stop abruptly, like a crashed vLLM: close the listener and abort every connection.

        Requests in flight get no answer (the client sees the connection drop) and
        new connections are refused.
        """
        server, loop = self._server, self._loop
        if server is not None and loop is not None and self.running:

            def abort() -> None:
                for listener in server.servers:
                    listener.close()
                for connection in list(server.server_state.connections):
                    connection.transport.abort()  # type: ignore[union-attr]
                server.force_exit = True
                server.should_exit = True

            loop.call_soon_threadsafe(abort)
        self._join(timeout)

    def close(self) -> None:
        """Kill the server and release its port (faster than a graceful stop)."""
        self.kill()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    # ------------------------------------------------------------ server thread

    @staticmethod
    def _bind(host: str, port: int) -> socket.socket:
        # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; with
        # proto 0 it does not, and every keep-alive request waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return sock

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        try:
            asyncio.run(serve())
        finally:
            sock.close()

    def _join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"FakeVllm on port {self._port} did not stop")
        self._server = self._thread = self._loop = None

"""A small vLLM-compatible OpenAI server for tests (FastAPI + uvicorn in a thread).

It mirrors the behaviour of ``vllm serve`` that this project relies on:

- ``GET /health`` answers 200 without a key.
- Every ``/v1/...`` route needs ``Authorization: Bearer <api_key>`` exactly as
  vLLM's ``--api-key`` middleware checks it; otherwise 401 with vLLM's body
  ``{"error": "Unauthorized"}``.
- A chat server (``dimension=None``) serves ``/v1/models``,
  ``/v1/chat/completions`` and ``/v1/responses`` (both with ``stream: true``
  SSE); an embedding server (``dimension=N``, i.e. ``--runner pooling``) serves
  ``/v1/models`` and ``/v1/embeddings``. The other routes are 404
  ``{"detail": "Not Found"}`` as in vLLM, where they are not registered.
- A request naming another model is 404 ``NotFoundError``; a body failing
  validation (e.g. ``encoding_format: null``) is 400 like vLLM's
  ``RequestValidationError`` handler; errors use vLLM's OpenAI error format
  ``{"error": {"message", "type", "param", "code"}}``.
- A prompt longer than ``max_model_len`` is a 400 ``BadRequestError`` with
  vLLM's wording (the 0.10/0.11 form, ``"This model's maximum context length
  is N tokens. However, you requested M tokens ..."``).

Token counting is deliberately crude: **one token per whitespace-separated
word** of every text (chat message contents, Responses ``instructions`` and
input, embedding inputs), and one per id for token-id inputs. The reply is
:attr:`FakeVllm.reply`, cut to ``max_tokens`` words when that is smaller.

Function calls are played as vLLM 0.32.0 (the pinned image) plays them for a
non-Harmony model; each behaviour names its source file and line in the
wheel (``vllm/...``), and docs/reference/vllm-tool-calling.md has the facts:

- The tool parser exists only with both ``--enable-auto-tool-choice`` and
  ``--tool-call-parser`` (``parser/parser_manager.py:36-37``). Build the
  server from the rendered command with :meth:`FakeVllm.from_command`, so a
  missing flag changes what it does; a launch vLLM refuses raises
  :class:`VllmLaunchError`.
- ``/v1/responses`` without a parser answers any ``tool_choice`` with a text
  message and status 200 (``entrypoints/openai/responses/serving.py:1050-1068``):
  the silent failure behind empty Metis reviews. ``/v1/chat/completions``
  refuses tools with a 400 instead (``renderers/online_renderer.py:252-280``).
- With a parser, a named or ``required`` tool choice yields exactly one
  ``function_call`` item (``parallel_tool_calls: false`` keeps one either way);
  ``auto`` yields one too (this fake's model always calls the first function
  tool); ``none`` yields text. Arguments come from :attr:`FakeVllm.tool_arguments`
  (default: the smallest instance of the tool's schema). Where vLLM's grammar
  pins them to the schema (``--tool-strict-level parameter`` or a tool marked
  ``strict``; ``tool_parsers/structural_tag_registry.py:175-197,352-355``) the
  fake checks that the scripted arguments validate and answers 500 if not (a
  broken test script); elsewhere it passes them on verbatim, as an
  unconstrained model may.
- A call cut short by ``max_output_tokens`` comes back as text with status
  ``incomplete`` (serving.py:841-842; ``parser/abstract_parser.py:464-482``).
- Request errors vLLM answers with 400: a named choice not among the tools or
  without tools, ``required`` without tools (responses/protocol.py:749-786).
- Not played: Harmony (gpt-oss) output, streamed function calls (501), reasoning.

``GET /metrics`` (no key, as in vLLM: its auth middleware guards only ``/v1``, ``/v2``,
``/inference`` and ``/cohere``, ``entrypoints/serve/middleware/authenticate.py:11,59``)
plays the three series the idle stop's publisher reads, as vLLM 0.32.0's
``PrometheusStatLogger`` exposes them through prometheus_client (``v1/metrics/loggers.py``:
labels ``model_name`` and ``engine`` at 499-505; ``vllm:num_requests_running`` 527-535 and
``vllm:num_requests_waiting`` 537-545, set per iteration at 1147-1153;
``vllm:request_success`` 809-819, one child per finish reason created up front and
incremented per finished request at 1289-1292, scraped as ``..._total`` with
``..._created``, docs/reference/observability.md). Running = generation or embedding
requests received and not yet answered (a stalled one counts); success = those answered
200; waiting is always 0 (this server queues nothing).

Fault injection, settable from the test thread at any time:
:attr:`FakeVllm.fail_status` (answer every authorised ``/v1`` request with that
status), :attr:`FakeVllm.stall_seconds` (sleep before answering), and
:meth:`FakeVllm.kill` (close the listening socket and abort open connections,
as a crashed process would: a router then sees connection refused).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import random
import socket
import struct
import threading
import time
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Self

import jsonschema
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import Headers

HOST = "127.0.0.1"
ENGINE_PATHS = frozenset({"/v1/chat/completions", "/v1/responses", "/v1/embeddings"})
"""Requests that reach vLLM's engine (and its request metrics); /v1/models does not."""
FINISH_REASONS = ("stop", "length", "abort", "error", "repetition")
"""vLLM 0.32.0 v1/engine/__init__.py:48-69 (FinishReason, as str)."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class RecordedRequest:
    """One ``/v1`` request the fake server received."""

    method: str
    path: str
    body: Any
    """The JSON body (``None`` for a GET or a body that is not JSON)."""
    status: int | None = None
    """The status answered; ``None`` while unanswered (stalled, or cut off by ``kill()``)."""


class _OpenAIRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str | None = None


class ChatRequest(_OpenAIRequest):
    """The fields of a chat completion request the fake server reads."""

    messages: list[dict[str, Any]]
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None


class ResponsesRequest(_OpenAIRequest):
    """The fields of a Responses API request the fake server reads."""

    input: str | list[dict[str, Any]]
    instructions: str | None = None
    max_output_tokens: int | None = None
    stream: bool | None = False
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] = "auto"
    parallel_tool_calls: bool | None = True


class EmbeddingRequest(_OpenAIRequest):
    """An embedding request, validated as strictly as vLLM does."""

    input: list[int] | list[list[int]] | str | list[str]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None


def error_response(
    status: int, message: str, err_type: str | None = None, param: str | None = None
) -> JSONResponse:
    """An error in vLLM's OpenAI format; the type defaults to e.g. ``InternalServerError``."""
    if err_type is None:
        err_type = "".join(HTTPStatus(status).phrase.split())
        err_type = err_type if err_type.endswith("Error") else f"{err_type}Error"
    body = {"error": {"message": message, "type": err_type, "param": param, "code": status}}
    return JSONResponse(body, status_code=status)


def count_tokens(text: str) -> int:
    """The fake tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def _content_text(content: Any) -> str:
    """The text of a message ``content``: a string or a list of parts with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _embedding_inputs(
    raw: list[int] | list[list[int]] | str | list[str],
) -> list[str | list[int]]:
    """The separate inputs of an embedding request: one text or token-id list each."""
    if isinstance(raw, str) or (raw and isinstance(raw[0], int)):
        return [raw]  # type: ignore[list-item]
    return list(raw)  # type: ignore[arg-type]


def _embedding(item: str | list[int], dimension: int) -> list[float]:
    """A deterministic unit vector derived from the input."""
    seed = hashlib.sha256(json.dumps(item).encode()).digest()
    rng = random.Random(seed)
    vector = [rng.uniform(-1.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def _sse(data: Any, event: str | None = None) -> str:
    prefix = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"{prefix}data: {payload}\n\n"


# ------------------------------------------------------- what `vllm serve` flags do

VLLM_TOOL_PARSERS = frozenset(
    {
        "apertus",
        "cohere_command3",
        "cohere_command4",
        "deepseek_v3",
        "deepseek_v31",
        "deepseek_v32",
        "deepseek_v4",
        "deepseek_v41",
        "dots",
        "ernie45",
        "functiongemma",
        "gemma4",
        "gigachat3",
        "glm45",
        "glm47",
        "granite",
        "granite-20b-fc",
        "granite4",
        "hermes",
        "hf",
        "hunyuan_a13b",
        "hy_v3",
        "hy_v4",
        "inkling",
        "internlm",
        "jamba",
        "k2_horizon",
        "kimi_k2",
        "kimi_k3",
        "lfm2",
        "ling3",
        "llama3_json",
        "llama4_json",
        "llama4_pythonic",
        "longcat",
        "mimo",
        "minicpm5",
        "minimax_m2",
        "minimax_m3",
        "mistral",
        "muse_glimmer",
        "olmo3",
        "openai",
        "phi4_mini_json",
        "plamo3",
        "poolside_v1",
        "pythonic",
        "qwen3_coder",
        "qwen3_json",
        "qwen3_xml",
        "seed_oss",
        "step3",
        "step3p5",
        "xlam",
    }
)
"""`--tool-call-parser` names vLLM 0.32.0 registers (vllm/tool_parsers/__init__.py:24-244)."""
TOOL_STRICT_LEVELS = ("auto", "function", "parameter")
"""vllm/tool_parsers/tool_strict_level.py:7."""
BOOLEAN_FLAGS = frozenset(
    {
        "--enable-auto-tool-choice",
        "--trust-remote-code",
        "--enable-prefix-caching",
        "--enforce-eager",
    }
)
"""Flags of the rendered commands that take no value."""


TOOL_CALL_FLAGS = ("--enable-auto-tool-choice", "--tool-call-parser", "--tool-strict-level")
"""The flags the stack renders for function calls (renderers/vllm.py)."""


def without_flags(command: Sequence[str], *flags: str) -> list[str]:
    """A command with some flags (and their values) taken out, e.g. to play a server
    started without the tool-call flags."""
    kept: list[str] = []
    rest = iter(command)
    for arg in rest:
        flag = arg.partition("=")[0]
        if flag not in flags:
            kept.append(arg)
        elif "=" not in arg and flag not in BOOLEAN_FLAGS:
            next(rest)
    return kept


class VllmLaunchError(RuntimeError):
    """`vllm serve` would exit at startup with this message."""


@dataclass(frozen=True)
class VllmFlags:
    """What a `vllm serve` command line asks for, as far as this fake plays it."""

    model: str
    served_name: str
    max_model_len: int | None
    pooling: bool
    enable_auto_tool_choice: bool = False
    tool_call_parser: str | None = None
    tool_strict_level: str = "auto"

    @classmethod
    def parse(cls, command: Sequence[str]) -> VllmFlags:
        """The flags of a container command (`MODEL --flag ...`, or `vllm serve MODEL ...`
        for images without the vLLM entrypoint), checked as vLLM checks them at launch."""
        args = list(command[2:] if list(command[:2]) == ["vllm", "serve"] else command)
        model, values, switches = args[0], {}, set()
        rest = iter(args[1:])
        for arg in rest:
            flag, equals, value = arg.partition("=")
            if equals:
                values[flag] = value
            elif flag in BOOLEAN_FLAGS:
                switches.add(flag)
            else:
                values[flag] = next(rest)
        flags = cls(
            model=model,
            served_name=values.get("--served-model-name", model),
            max_model_len=int(values["--max-model-len"]) if "--max-model-len" in values else None,
            pooling=values.get("--runner") == "pooling" or values.get("--task") == "embed",
            enable_auto_tool_choice="--enable-auto-tool-choice" in switches,
            tool_call_parser=values.get("--tool-call-parser"),
            tool_strict_level=values.get("--tool-strict-level", "auto"),
        )
        flags.check_launch()
        return flags

    def check_launch(self) -> None:
        """What `vllm serve` refuses before loading the model."""
        if self.enable_auto_tool_choice and not self.tool_call_parser:
            # entrypoints/launchers/cli_args.py:522-524
            raise VllmLaunchError("Error: --enable-auto-tool-choice requires --tool-call-parser")
        if self.tool_parser is not None and self.tool_parser not in VLLM_TOOL_PARSERS:
            # parser/parser_manager.py:49-55
            raise VllmLaunchError(
                f"Error: --enable-auto-tool-choice requires tool_parser:'{self.tool_parser}' "
                "which has not been registered"
            )
        if self.tool_strict_level not in TOOL_STRICT_LEVELS:
            # tool_parsers/tool_strict_level.py:24-32 (argparse choices, launchers/cli_args.py:131)
            raise VllmLaunchError(f"Unknown tool strict level {self.tool_strict_level!r}")

    @property
    def tool_parser(self) -> str | None:
        """The tool parser vLLM builds: none unless both flags are given
        (parser/parser_manager.py:36-37)."""
        return self.tool_call_parser if self.enable_auto_tool_choice else None


@dataclass(frozen=True)
class FunctionCallRequest:
    """What the fake's "model" is asked to call: the tool and the whole request."""

    name: str
    parameters: dict[str, Any]
    body: dict[str, Any]

    @property
    def prompt_text(self) -> str:
        """Every text of the request (Responses `instructions` and `input`, chat messages)."""
        items = self.body.get("input") or self.body.get("messages") or []
        if isinstance(items, str):
            items = [{"content": items}]
        texts = [self.body.get("instructions") or ""]
        texts += [_content_text(item.get("content")) for item in items if isinstance(item, dict)]
        return "\n".join(texts)


ToolArguments = Callable[[FunctionCallRequest], Any]
"""Scripts the arguments of the fake's function calls (e.g. the findings of a review)."""


def smallest_instance(schema: Mapping[str, Any]) -> Any:
    """The smallest value a JSON schema accepts, for the schemas tests use (no patterns)."""
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return smallest_instance(schema["anyOf"][0])
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: smallest_instance(properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [smallest_instance(schema.get("items", {}))] * schema.get("minItems", 0)
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    return {"integer": schema.get("minimum", 0), "number": schema.get("minimum", 0.0),
            "boolean": False, "null": None}[kind]  # fmt: skip


def _function_tools(tools: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """A request's function tools by name, in either API's shape."""
    found = {}
    for tool in tools or []:
        function = tool.get("function", tool)
        if tool.get("type") == "function" and "name" in function:
            found[function["name"]] = {
                **function,
                "strict": function.get("strict", tool.get("strict")),
            }
    return found


@dataclass(frozen=True)
class _Call:
    """One function call the fake's model makes."""

    name: str
    arguments: str
    """JSON text, as both APIs carry it."""

    @property
    def text(self) -> str:
        """What the model writes for it (the JSON body of e.g. a hermes `<tool_call>`)."""
        return f'{{"name": "{self.name}", "arguments": {self.arguments}}}'


class FakeVllm:
    """A vLLM-like server on ``127.0.0.1``, run by uvicorn in a daemon thread.

    The port is reserved at construction, so :attr:`url` is known (and refuses
    connections) before :meth:`start`. It can be started again after
    :meth:`stop` or :meth:`kill`, on the same port.

    Example::

        with FakeVllm("Qwen/Qwen2.5-Coder-7B-Instruct", api_key="sk-backend") as vllm:
            openai.OpenAI(base_url=vllm.url, api_key="sk-backend").models.list()
    """

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
        self._started_at = time.time()
        self.requests: list[RecordedRequest] = []
        """Every ``/v1`` request received so far, in order (401s and faults included)."""
        self.host = host
        self._socket: socket.socket | None = self._bind(host, port)
        self._port: int = self._socket.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app = self._build_app()

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

    def start(self, timeout: float = 10.0) -> Self:
        """Serve in a background thread; returns once the socket accepts connections."""
        if self.running:
            raise RuntimeError("FakeVllm is already running")
        sock = self._socket if self._socket is not None else self._bind(self.host, self._port)
        self._socket = None
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=self._run,
            args=(server, sock),
            name=f"fake-vllm-{self._port}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"FakeVllm on port {self._port} did not start")
            time.sleep(0.01)
        return self

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

    def __enter__(self) -> Self:
        """Start the server (``with FakeVllm(...) as vllm:``)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Kill the server and release its port."""
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

    # ------------------------------------------------------------------ ASGI app

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Auth, fault injection and recording for ``/v1``, then the FastAPI app."""
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self._app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        recorded = RecordedRequest(scope["method"], scope["path"], parsed)
        self.requests.append(recorded)

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                recorded.status = message["status"]
            await send(message)

        app: Callable[[Scope, Receive, Send], Awaitable[None]] = self._app
        if not self._authorized(Headers(scope=scope)):
            app = JSONResponse({"error": "Unauthorized"}, status_code=401)
        else:
            if self.stall_seconds > 0:
                try:
                    await asyncio.sleep(self.stall_seconds)
                except asyncio.CancelledError:
                    return  # kill() tore the connection down mid-stall
            if self.fail_status is not None:
                app = error_response(
                    self.fail_status,
                    f"Injected failure ({self.fail_status}) from the fake vLLM",
                )
        await app(scope, replay, record)

    def _authorized(self, headers: Headers) -> bool:
        """vLLM's check: ``Authorization: Bearer <key>``, scheme case-insensitive."""
        if self.api_key is None:
            return True
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token == self.api_key

    def _build_app(self) -> FastAPI:
        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

        @app.exception_handler(RequestValidationError)
        async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
            return error_response(400, str(exc.errors()), "Bad Request")

        @app.get("/health")
        async def health() -> Response:
            return Response(status_code=200)

        @app.get("/metrics")
        async def metrics() -> Response:
            return Response(self._metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            card = {
                "id": self.served_name,
                "object": "model",
                "created": int(time.time()),
                "owned_by": "vllm",
                "root": self.served_name,
                "parent": None,
                "max_model_len": self.max_model_len,
                "permission": [],
            }
            return {"object": "list", "data": [card]}

        if self.dimension is None:

            @app.post("/v1/chat/completions")
            async def chat(request: ChatRequest) -> Response:
                return self._chat(request)

            @app.post("/v1/responses")
            async def responses(request: ResponsesRequest) -> Response:
                return self._responses(request)

        else:

            @app.post("/v1/embeddings")
            async def embeddings(request: EmbeddingRequest) -> Response:
                return self._embeddings(request)

        return app

    # ------------------------------------------------------------------ handlers

    def _metrics(self) -> str:
        """The request gauges and counter, in prometheus_client's text exposition."""
        engine = [r for r in list(self.requests) if r.path in ENGINE_PATHS]
        running = sum(1 for r in engine if r.status is None)
        finished = sum(1 for r in engine if r.status == 200)
        labels = f'engine="0",model_name="{self.served_name}"'
        lines = [
            "# HELP vllm:num_requests_running Number of requests in model execution batches.",
            "# TYPE vllm:num_requests_running gauge",
            f"vllm:num_requests_running{{{labels}}} {float(running)}",
            "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
            "# TYPE vllm:num_requests_waiting gauge",
            f"vllm:num_requests_waiting{{{labels}}} 0.0",
            "# HELP vllm:request_success_total Count of successfully processed requests.",
            "# TYPE vllm:request_success_total counter",
        ]
        for reason in FINISH_REASONS:
            count = finished if reason == "stop" else 0
            lines.append(
                f'vllm:request_success_total{{{labels},finished_reason="{reason}"}} {float(count)}'
            )
        for reason in FINISH_REASONS:
            lines.append(
                f'vllm:request_success_created{{{labels},finished_reason="{reason}"}} '
                f"{self._started_at}"
            )
        return "\n".join(lines) + "\n"

    def _wrong_model(self, model: str | None) -> JSONResponse | None:
        if model is None or model == self.served_name:
            return None
        return error_response(404, f"The model `{model}` does not exist.", "NotFoundError", "model")

    def _too_long(self, prompt_tokens: int, max_tokens: int | None) -> JSONResponse | None:
        """vLLM's context-length checks for generation requests."""
        limit = self.max_model_len
        if prompt_tokens >= limit:
            message = (
                f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt_tokens} tokens in the messages, Please reduce the length of the messages."
            )
        elif max_tokens is not None and prompt_tokens + max_tokens > limit:
            message = (
                f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, "
                f"{max_tokens} in the completion). "
                "Please reduce the length of the messages or completion."
            )
        else:
            return None
        return error_response(400, message, "BadRequestError")

    def _call(
        self, name: str, tools: list[dict[str, Any]] | None, body: dict[str, Any]
    ) -> _Call | JSONResponse:
        """The model's call of a tool, with the scripted arguments.

        Where vLLM's grammar pins the arguments to the tool's schema (strict level
        `parameter`, or a tool marked `strict`: structural_tag_registry.py:175-197 and
        352-355), scripted arguments that break it are a broken test: 500.
        """
        tool = _function_tools(tools)[name]
        parameters = tool.get("parameters") or {}
        arguments = self.tool_arguments(FunctionCallRequest(name, parameters, body))
        if self.tool_strict_level == "parameter" or tool.get("strict") is True:
            try:
                jsonschema.validate(arguments, parameters)
            except jsonschema.ValidationError as error:
                message = (
                    f"Fake vLLM: scripted arguments break the enforced schema: {error.message}"
                )
                return error_response(500, message)
        return _Call(name, json.dumps(arguments, ensure_ascii=False))

    def _responses_call(self, request: ResponsesRequest) -> _Call | JSONResponse | None:
        """The function call a Responses request gets, None for a text answer, or vLLM's 400."""
        choice, tools = request.tool_choice, _function_tools(request.tools)
        named = isinstance(choice, dict) and choice.get("type") in ("function", "custom")
        not_found = "Tool choice 'function' not found in 'tools' parameter."
        if not request.tools:  # responses/protocol.py:762-774
            if choice == "required":
                message = "Tool choice 'required' must be specified with 'tools' parameter."
                return error_response(400, message, "BadRequestError", "tool_choice")
            if named:
                return error_response(400, not_found, "BadRequestError", "tool_choice")
            return None
        if named and choice.get("name") not in tools:  # responses/protocol.py:775-782, 205-208
            return error_response(400, not_found, "BadRequestError", "tool_choice")
        if self.tool_parser is None or choice == "none" or not tools:
            return None  # responses/serving.py:1050-1068; parser/abstract_parser.py:394-398
        name = choice["name"] if named else next(iter(tools))
        return self._call(name, request.tools, request.model_dump())

    def _chat_call(self, request: ChatRequest) -> _Call | JSONResponse | None:
        """The function call a chat request gets, None for a text answer, or vLLM's 400."""
        if request.tools == []:  # chat_completion/protocol.py:943-949
            message = (
                "`tools` must not be an empty array. "
                "Either provide at least one tool or omit the field entirely."
            )
            return error_response(400, message, "BadRequestError", "tools")
        choice = request.tool_choice
        if choice is None and request.tools:
            choice = "auto"  # chat_completion/protocol.py:953-954
        if choice in (None, "none"):
            return None
        if not request.tools:  # chat_completion/protocol.py:963-967
            message = "When using `tool_choice`, `tools` must be set."
            return error_response(400, message, "BadRequestError", "tool_choice")
        tools = _function_tools(request.tools)
        name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
        if isinstance(choice, dict) and name not in tools:  # chat_completion/protocol.py:1009-1018
            message = (
                "The tool specified in `tool_choice` does not match any of the specified `tools`"
            )
            return error_response(400, message, "BadRequestError", "tool_choice")
        if self.tool_parser is None:  # renderers/online_renderer.py:259-280
            if choice == "auto":
                message = (
                    '"auto" tool choice requires '
                    "--enable-auto-tool-choice and --tool-call-parser to be set"
                )
            else:
                described = f'function "{name}"' if name else f'"{choice}"'
                message = f"tool_choice={described} requires --tool-call-parser to be set"
            return error_response(400, message, "BadRequestError")
        return self._call(name or next(iter(tools)), request.tools, request.model_dump())

    @staticmethod
    def _not_played(what: str) -> JSONResponse:
        return error_response(501, f"Fake vLLM: {what} are not played by this test server")

    def _reply_words(
        self, max_tokens: int | None, call: _Call | None = None
    ) -> tuple[list[str], str]:
        """The reply (the call's text when there is one) as word tokens (with leading
        spaces), and the finish reason."""
        words = (call.text if call else self.reply).split()
        if max_tokens is not None and max_tokens < len(words):
            words, finish = words[:max_tokens], "length"
        else:
            finish = "stop"
        return [w if i == 0 else f" {w}" for i, w in enumerate(words)], finish

    def _chat(self, request: ChatRequest) -> Response:
        if (error := self._wrong_model(request.model)) is not None:
            return error
        prompt_tokens = sum(count_tokens(_content_text(m.get("content"))) for m in request.messages)
        max_tokens = request.max_completion_tokens or request.max_tokens
        if (error := self._too_long(prompt_tokens, max_tokens)) is not None:
            return error
        call = self._chat_call(request)
        if isinstance(call, JSONResponse):
            return call
        if call is not None and request.stream:
            return self._not_played("streamed function calls")
        tokens, finish = self._reply_words(max_tokens, call)
        called = call is not None and finish != "length"
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
            "prompt_tokens_details": None,
        }
        head = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "created": int(time.time()),
            "model": self.served_name,
        }
        if not request.stream:
            message = {
                "role": "assistant",
                "content": None if called else "".join(tokens),
                "reasoning_content": None,
                "tool_calls": [],
            }
            if called:
                assert call is not None
                message["tool_calls"] = [
                    {
                        "id": f"chatcmpl-tool-{uuid.uuid4().hex}",
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                ]
                # "stop" for a named choice, "tool_calls" otherwise
                # (chat_completion/serving.py:1096-1118).
                finish = "stop" if isinstance(request.tool_choice, dict) else "tool_calls"
            choice = {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            }
            return JSONResponse(
                {
                    **head,
                    "object": "chat.completion",
                    "choices": [choice],
                    "usage": usage,
                }
            )

        include_usage = bool((request.stream_options or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            choice = {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            return _sse({**head, "object": "chat.completion.chunk", "choices": [choice]})

        def events() -> Iterable[str]:
            yield chunk({"role": "assistant", "content": ""})
            for i, token in enumerate(tokens):
                yield chunk({"content": token}, finish if i == len(tokens) - 1 else None)
            if not tokens:
                yield chunk({}, finish)
            if include_usage:
                yield _sse(
                    {
                        **head,
                        "object": "chat.completion.chunk",
                        "choices": [],
                        "usage": usage,
                    }
                )
            yield _sse("[DONE]")

        return self._stream(events())

    def _responses(self, request: ResponsesRequest) -> Response:
        if (error := self._wrong_model(request.model)) is not None:
            return error
        texts = [request.instructions or ""]
        if isinstance(request.input, str):
            texts.append(request.input)
        else:
            texts.extend(_content_text(item.get("content")) for item in request.input)
        prompt_tokens = sum(count_tokens(t) for t in texts)
        if (error := self._too_long(prompt_tokens, request.max_output_tokens)) is not None:
            return error
        call = self._responses_call(request)
        if isinstance(call, JSONResponse):
            return call
        if call is not None and request.stream:
            return self._not_played("streamed function calls")
        # A call cut short is no call: its text is left as content
        # (parser/abstract_parser.py:464-482, tool_parsers/hermes_tool_parser.py:116-120).
        tokens, finish = self._reply_words(request.max_output_tokens, call)
        text = "".join(tokens)
        item_id = f"msg_{uuid.uuid4().hex}"
        part = {
            "type": "output_text",
            "text": text,
            "annotations": [],
            "logprobs": None,
        }
        item: dict[str, Any] = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [part],
        }
        if call is not None and finish != "length":
            item = {  # responses/utils.py:145-174
                "id": f"fc_{uuid.uuid4().hex}",
                "call_id": f"chatcmpl-tool-{uuid.uuid4().hex}",
                "type": "function_call",
                "status": "completed",
                "name": call.name,
                "arguments": call.arguments,
            }
        usage = {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": len(tokens),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + len(tokens),
        }
        incomplete = {"reason": "max_output_tokens"} if finish == "length" else None
        response: dict[str, Any] = {
            "id": f"resp_{uuid.uuid4().hex}",
            "object": "response",
            "created_at": int(time.time()),
            "model": self.served_name,
            "status": "completed" if incomplete is None else "incomplete",
            "incomplete_details": incomplete,
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "metadata": None,
            "output": [item],
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "previous_response_id": None,
            "reasoning": None,
            "service_tier": "auto",
            "temperature": 1.0,
            "text": None,
            "tool_choice": request.tool_choice if request.tools else "none",
            "tools": request.tools or [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": None,
        }
        if not request.stream:
            return JSONResponse(response)

        def events() -> Iterable[str]:
            sequence = iter(range(1_000_000))

            def event(kind: str, **fields: Any) -> str:
                return _sse(
                    {"type": kind, "sequence_number": next(sequence), **fields},
                    event=kind,
                )

            in_progress = {
                **response,
                "status": "in_progress",
                "output": [],
                "usage": None,
            }
            yield event("response.created", response=in_progress)
            yield event("response.in_progress", response=in_progress)
            started = {**item, "status": "in_progress", "content": []}
            yield event("response.output_item.added", output_index=0, item=started)
            where = {"item_id": item_id, "output_index": 0, "content_index": 0}
            yield event("response.content_part.added", **where, part={**part, "text": ""})
            for token in tokens:
                yield event("response.output_text.delta", **where, delta=token, logprobs=[])
            yield event("response.output_text.done", **where, text=text, logprobs=[])
            yield event("response.content_part.done", **where, part=part)
            yield event("response.output_item.done", output_index=0, item=item)
            yield event(
                "response.completed" if incomplete is None else "response.incomplete",
                response=response,
            )

        return self._stream(events())

    def _embeddings(self, request: EmbeddingRequest) -> Response:
        assert self.dimension is not None
        if (error := self._wrong_model(request.model)) is not None:
            return error
        if request.dimensions is not None and request.dimensions != self.dimension:
            message = (
                f'Model "{self.served_name}" does not support matryoshka representation, '
                "changing output dimensions will lead to poor results."
            )
            return error_response(400, message, "BadRequestError")
        data = []
        prompt_tokens = 0
        for index, item in enumerate(_embedding_inputs(request.input)):
            tokens = count_tokens(item) if isinstance(item, str) else len(item)
            if tokens > self.max_model_len:
                message = (
                    f"This model's maximum context length is {self.max_model_len} tokens. "
                    f"However, you requested {tokens} tokens in the input for embedding "
                    "generation. Please reduce the length of the input."
                )
                return error_response(400, message, "BadRequestError")
            prompt_tokens += tokens
            vector = _embedding(item, self.dimension)
            embedding: list[float] | str = vector
            if request.encoding_format == "base64":
                embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"index": index, "object": "embedding", "embedding": embedding})
        usage = {
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens,
            "completion_tokens": 0,
        }
        return JSONResponse(
            {
                "id": f"embd-{uuid.uuid4().hex}",
                "object": "list",
                "created": int(time.time()),
                "model": self.served_name,
                "data": data,
                "usage": usage,
            }
        )

    @staticmethod
    def _stream(events: Iterable[str]) -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            for chunk in events:
                yield chunk
                await asyncio.sleep(0)

        return StreamingResponse(body(), media_type="text/event-stream")

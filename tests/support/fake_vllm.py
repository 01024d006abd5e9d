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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import Headers

HOST = "127.0.0.1"

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


class ResponsesRequest(_OpenAIRequest):
    """The fields of a Responses API request the fake server reads."""

    input: str | list[dict[str, Any]]
    instructions: str | None = None
    max_output_tokens: int | None = None
    stream: bool | None = False


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
        """
        self.served_name = served_name
        self.api_key = api_key
        self.dimension = dimension
        self.max_model_len = max_model_len
        self.reply = reply
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
        self._app = self._build_app()

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

    def _reply_words(self, max_tokens: int | None) -> tuple[list[str], str]:
        """The reply as word tokens (with leading spaces) and the finish reason."""
        words = self.reply.split()
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
        tokens, finish = self._reply_words(max_tokens)
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
                "content": "".join(tokens),
                "reasoning_content": None,
                "tool_calls": [],
            }
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
        tokens, finish = self._reply_words(request.max_output_tokens)
        text = "".join(tokens)
        item_id = f"msg_{uuid.uuid4().hex}"
        part = {
            "type": "output_text",
            "text": text,
            "annotations": [],
            "logprobs": None,
        }
        item = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [part],
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
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": None,
            "service_tier": "auto",
            "temperature": 1.0,
            "text": None,
            "tool_choice": "auto",
            "tools": [],
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

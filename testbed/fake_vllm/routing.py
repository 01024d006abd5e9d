"""Which request goes where, as in ``vllm serve``: ``/health`` open; every ``/v1`` route
behind vLLM's ``--api-key`` check (with the test's fault injection and a record of each
request, and the engine's metrics for generation and embedding requests); chat routes on a
chat server, ``/v1/embeddings`` on a pooling one, ``/metrics`` open, anything else 404."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers

from testbed.fake_vllm.chat import chat_completion
from testbed.fake_vllm.embeddings import embeddings
from testbed.fake_vllm.metering import ENGINE_PATHS, metered
from testbed.fake_vllm.metrics import CONTENT_TYPE, VllmMetrics
from testbed.fake_vllm.model import ServedModel
from testbed.fake_vllm.protocol import (
    ChatRequest,
    EmbeddingRequest,
    RecordedRequest,
    ResponsesRequest,
    error_response,
)
from testbed.fake_vllm.responses import response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Served(ServedModel, Protocol):
    """What the routing reads of the server: its key, the faults a test injects, where it
    records requests, and its engine metrics."""

    api_key: str | None
    fail_status: int | None
    stall_seconds: float
    requests: list[RecordedRequest]
    metrics: VllmMetrics


def build_app(server: Served) -> App:
    """The server's ASGI app: the ``/v1`` gate in front of vLLM's routes."""
    routes = _routes(server)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await routes(scope, receive, send)
            return
        await _gate(server, routes, scope, receive, send)

    return app


async def _gate(server: Served, routes: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Auth, fault injection and recording for ``/v1``, then the routes."""
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
    server.requests.append(recorded)

    async def record(message: Message) -> None:
        if message["type"] == "http.response.start":
            recorded.status = message["status"]
        await send(message)

    app: App
    if not _authorized(server.api_key, Headers(scope=scope)):
        app = JSONResponse({"error": "Unauthorized"}, status_code=401)
    elif scope["path"] in ENGINE_PATHS:
        app = metered(server.metrics, parsed, _with_faults(server, routes))
    else:
        app = _with_faults(server, routes)
    await app(scope, replay, record)


def _with_faults(server: Served, routes: App) -> App:
    """The routes behind the faults a test injects: the stall, then the failure status
    (read after the stall, so a test may set it meanwhile)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if server.stall_seconds > 0:
            try:
                await asyncio.sleep(server.stall_seconds)
            except asyncio.CancelledError:
                return  # kill() tore the connection down mid-stall
        answer = routes
        if server.fail_status is not None:
            answer = error_response(
                server.fail_status,
                f"Injected failure ({server.fail_status}) from the fake vLLM",
            )
        await answer(scope, receive, send)

    return app


def _authorized(api_key: str | None, headers: Headers) -> bool:
    """vLLM's check: ``Authorization: Bearer <key>``, scheme case-insensitive."""
    if api_key is None:
        return True
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token == api_key


def _routes(server: Served) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, str(exc.errors()), "Bad Request")

    @app.get("/health")
    async def health() -> Response:
        return Response(status_code=200)

    @app.get("/metrics")
    async def engine_metrics() -> Response:
        return Response(server.metrics.exposition(), media_type=CONTENT_TYPE)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        card = {
            "id": server.served_name,
            "object": "model",
            "created": int(time.time()),
            "owned_by": "vllm",
            "root": server.served_name,
            "parent": None,
            "max_model_len": server.max_model_len,
            "permission": [],
        }
        return {"object": "list", "data": [card]}

    if server.dimension is None:

        @app.post("/v1/chat/completions")
        async def chat(request: ChatRequest) -> Response:
            return chat_completion(server, request)

        @app.post("/v1/responses")
        async def responses(request: ResponsesRequest) -> Response:
            return response(server, request)

    else:

        @app.post("/v1/embeddings")
        async def embedding(request: EmbeddingRequest) -> Response:
            return embeddings(server, request)

    return app

"""The OpenAI-compatible wire format as vLLM speaks it: the request fields the test server
reads, vLLM's error body, and server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict


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


def not_played(what: str) -> JSONResponse:
    """What this test server answers where vLLM does something it does not play."""
    return error_response(501, f"Fake vLLM: {what} are not played by this test server")


def content_text(content: Any) -> str:
    """The text of a message ``content``: a string or a list of parts with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def sse(data: Any, event: str | None = None) -> str:
    """One server-sent event."""
    prefix = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else json.dumps(data)
    return f"{prefix}data: {payload}\n\n"


def stream(events: Iterable[str]) -> StreamingResponse:
    """Server-sent events, each sent as its own chunk."""

    async def body() -> AsyncIterator[str]:
        for chunk in events:
            yield chunk
            await asyncio.sleep(0)

    return StreamingResponse(body(), media_type="text/event-stream")

"""The test server's "model": what the payload builders read of it, its tokenizer, its reply,
and the checks vLLM makes against the served model before it generates anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from fastapi.responses import JSONResponse

from testbed.fake_vllm.protocol import error_response

if TYPE_CHECKING:
    from testbed.fake_vllm.tools import ToolArguments


class ServedModel(Protocol):
    """What the payload builders read of the server; a test may change `reply` and
    `tool_arguments` at any time, so builders read them per request."""

    served_name: str
    max_model_len: int
    dimension: int | None
    reply: str
    tool_parser: str | None
    tool_strict_level: str
    tool_arguments: ToolArguments


def count_tokens(text: str) -> int:
    """The fake tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def reply_tokens(text: str, max_tokens: int | None) -> tuple[list[str], str]:
    """A reply as word tokens (with leading spaces), cut to `max_tokens`, and the finish
    reason."""
    words = text.split()
    if max_tokens is not None and max_tokens < len(words):
        words, finish = words[:max_tokens], "length"
    else:
        finish = "stop"
    return [w if i == 0 else f" {w}" for i, w in enumerate(words)], finish


def wrong_model(model: ServedModel, requested: str | None) -> JSONResponse | None:
    """vLLM's 404 for a request naming another model."""
    if requested is None or requested == model.served_name:
        return None
    return error_response(404, f"The model `{requested}` does not exist.", "NotFoundError", "model")


def too_long(model: ServedModel, prompt_tokens: int, max_tokens: int | None) -> JSONResponse | None:
    """vLLM's context-length checks for generation requests."""
    limit = model.max_model_len
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

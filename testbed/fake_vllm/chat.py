"""``/v1/chat/completions`` as vLLM answers it: the reply (or one function call) as a
completion, or as a stream of chunks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse, Response

from testbed.fake_vllm.model import ServedModel, count_tokens, too_long, wrong_model
from testbed.fake_vllm.protocol import ChatRequest, content_text, sse, stream
from testbed.fake_vllm.tools import answer, chat_call


def chat_completion(model: ServedModel, request: ChatRequest) -> Response:
    """A chat completion, or a stream of chunks, as vLLM answers it."""
    if (error := wrong_model(model, request.model)) is not None:
        return error
    prompt_tokens = sum(count_tokens(content_text(m.get("content"))) for m in request.messages)
    max_tokens = request.max_completion_tokens or request.max_tokens
    if (error := too_long(model, prompt_tokens, max_tokens)) is not None:
        return error
    answered = answer(
        model, chat_call(model, request), stream=request.stream, max_tokens=max_tokens
    )
    if isinstance(answered, JSONResponse):
        return answered
    tokens, finish, call = answered.tokens, answered.finish, answered.call
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(tokens),
        "total_tokens": prompt_tokens + len(tokens),
        "prompt_tokens_details": None,
    }
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": model.served_name,
    }
    if not request.stream:
        message = {
            "role": "assistant",
            "content": None if call else "".join(tokens),
            "reasoning_content": None,
            "tool_calls": [],
        }
        if call is not None:
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
        return sse({**head, "object": "chat.completion.chunk", "choices": [choice]})

    def events() -> Iterable[str]:
        yield chunk({"role": "assistant", "content": ""})
        for i, token in enumerate(tokens):
            yield chunk({"content": token}, finish if i == len(tokens) - 1 else None)
        if not tokens:
            yield chunk({}, finish)
        if include_usage:
            yield sse(
                {
                    **head,
                    "object": "chat.completion.chunk",
                    "choices": [],
                    "usage": usage,
                }
            )
        yield sse("[DONE]")

    return stream(events())

"""``/v1/responses`` as vLLM answers it: one output item, a message or a function call
(``responses/utils.py:145-174``), or the stream of events that builds it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse, Response

from testbed.fake_vllm.model import ServedModel, count_tokens, too_long, wrong_model
from testbed.fake_vllm.protocol import ResponsesRequest, content_text, sse, stream
from testbed.fake_vllm.tools import answer, responses_call


def response(model: ServedModel, request: ResponsesRequest) -> Response:
    """A Responses API answer (a message, or one function call), or its stream of events."""
    if (error := wrong_model(model, request.model)) is not None:
        return error
    texts = [request.instructions or ""]
    if isinstance(request.input, str):
        texts.append(request.input)
    else:
        texts.extend(content_text(item.get("content")) for item in request.input)
    prompt_tokens = sum(count_tokens(t) for t in texts)
    if (error := too_long(model, prompt_tokens, request.max_output_tokens)) is not None:
        return error
    answered = answer(
        model,
        responses_call(model, request),
        stream=request.stream,
        max_tokens=request.max_output_tokens,
    )
    if isinstance(answered, JSONResponse):
        return answered
    tokens, finish, call = answered.tokens, answered.finish, answered.call
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
    if call is not None:
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
        "model": model.served_name,
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
            return sse(
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

    return stream(events())

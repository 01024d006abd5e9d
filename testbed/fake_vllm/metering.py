"""Which requests drive the test server's engine metrics (``metrics``), and how.

A request reaches the engine when it is an authorised ``/v1`` generation or embedding
request (vLLM's ``--api-key`` middleware turns the others away first). It is running while
it is answered, a test's stall included; its prompt is the words of its texts (the fake's
tokenizer, one token per whitespace word). It finishes, for the metrics, when it is answered
200 (a validation error, 4xx, never reaches vLLM's engine; an injected failure is not
counted either): its tokens and finish reason come from the answer's ``usage`` (or, when
streamed, from the last event carrying one, else from the stream itself), its time to first
token is the first body chunk (the whole answer when not streamed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from testbed.fake_vllm.metrics import Completion, VllmMetrics

if TYPE_CHECKING:
    from testbed.fake_vllm.routing import App, Message, Receive, Scope, Send

ENGINE_PATHS = frozenset({"/v1/chat/completions", "/v1/responses", "/v1/embeddings"})
"""The routes whose requests reach the engine in the test server."""


def _texts(value: Any) -> list[str]:
    """Every text of a request body field: strings, message contents, content parts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for key in ("content", "text") for text in _texts(value.get(key))]
    return []


def prompt_words(body: Any) -> list[str]:
    """The prompt's tokens as the test server counts them (one per whitespace word)."""
    if not isinstance(body, dict):
        return []
    fields = [body.get("instructions"), body.get("messages"), body.get("input")]
    return [word for field in fields for text in _texts(field) for word in text.split()]


def completion_of(path: str, answer: Any) -> Completion:
    """Tokens and finish reason from a JSON answer's `usage` (or an event carrying one)."""
    answer = answer if isinstance(answer, dict) else {}
    usage = answer.get("usage") or {}
    if path == "/v1/responses":
        incomplete = answer.get("status") == "incomplete"
        return Completion(
            usage.get("input_tokens", 0), usage.get("output_tokens", 0),
            "length" if incomplete else "stop",
        )  # fmt: skip
    choices = answer.get("choices") or [{}]
    # vLLM's `tool_calls` finish is an engine `stop` (the parser renames it).
    finish = "length" if choices[0].get("finish_reason") == "length" else "stop"
    return Completion(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), finish)


def _events(chunks: bytes) -> Iterator[dict[str, Any]]:
    """The JSON objects of server-sent events (a Responses event's `response` for those
    carrying one)."""
    for line in chunks.decode(errors="replace").splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        try:
            event = json.loads(line[len("data: ") :])
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event.get("response", event)


def _streamed(path: str, chunks: bytes, prompt: list[str]) -> Completion:
    """A streamed answer: from the last event carrying `usage` (a chat chunk with
    `stream_options.include_usage`, a Responses `response.completed`/`.incomplete`);
    without one, the prompt as counted and one generated token per content chunk, as the
    test server streams them (vLLM counts tokens whether or not the client asks for usage)."""
    with_usage, generated, finish = None, 0, "stop"
    for event in _events(chunks):
        if event.get("usage"):
            with_usage = event
        for choice in event.get("choices") or []:
            generated += bool((choice.get("delta") or {}).get("content"))
            finish = "length" if choice.get("finish_reason") == "length" else finish
    if with_usage is not None:
        return completion_of(path, with_usage)
    return Completion(len(prompt), generated, finish)


def metered(metrics: VllmMetrics, request: Any, app: App) -> App:
    """`app` answering one engine request (its JSON body `request`), recorded in `metrics`:
    running while it is answered, finished when answered 200."""

    async def run(scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        status, first_chunk, answer = 0, None, b""

        async def record(message: Message) -> None:
            nonlocal status, first_chunk, answer
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and message.get("body"):
                first_chunk = first_chunk or time.monotonic()
                answer += message["body"]
            await send(message)

        prompt = prompt_words(request)
        with metrics.serving(prompt):
            await app(scope, receive, record)
        if status != 200:
            return
        try:
            done = completion_of(scope["path"], json.loads(answer))
        except ValueError:
            done = _streamed(scope["path"], answer, prompt)
        ended = time.monotonic()
        metrics.finished(done, (first_chunk or ended) - started, ended - started)

    return run

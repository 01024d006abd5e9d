"""A small vLLM-compatible OpenAI server for tests (FastAPI + uvicorn in a thread).

It mirrors the behaviour of ``vllm serve`` that this project relies on:

- ``GET /health`` answers 200 without a key, and so does ``GET /metrics``: vLLM 0.32.0's
  engine metrics (what the dashboards, the alert rules and the idle stop's activity
  publisher read), driven by the requests served (``metrics``, ``metering``).
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

Fault injection, settable from the test thread at any time:
:attr:`FakeVllm.fail_status` (answer every authorised ``/v1`` request with that
status), :attr:`FakeVllm.stall_seconds` (sleep before answering), and
:meth:`FakeVllm.kill` (close the listening socket and abort open connections,
as a crashed process would: a router then sees connection refused).

Modules, one job each: `server` (lifecycle, what a test sets and reads), `routing` (which
request goes where: auth, faults, recording, routes), `protocol` (request fields, errors,
server-sent events), `model` (tokens, reply, context and model-name checks), `flags` (what
the `vllm serve` flags do), `tools` (function calls), the payload builders `chat`,
`responses` and `embeddings`, and the engine metrics: `metrics` (what vLLM exports) and
`metering` (which requests drive them).
"""

from testbed.fake_vllm.flags import (
    TOOL_CALL_FLAGS,
    VllmFlags,
    VllmLaunchError,
    without_flags,
)
from testbed.fake_vllm.protocol import RecordedRequest
from testbed.fake_vllm.server import FakeVllm
from testbed.fake_vllm.tools import FunctionCallRequest, ToolArguments, smallest_instance

__all__ = [
    "TOOL_CALL_FLAGS",
    "FakeVllm",
    "FunctionCallRequest",
    "RecordedRequest",
    "ToolArguments",
    "VllmFlags",
    "VllmLaunchError",
    "smallest_instance",
    "without_flags",
]

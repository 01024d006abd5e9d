"""Function calls as vLLM 0.32.0 plays them for a non-Harmony model: whether a request gets
one, vLLM's 400s for tool choices it refuses, and the scripted arguments (checked against
the schema where vLLM's grammar pins them). Each behaviour cites its file and line in the
wheel (``vllm/...``); docs/reference/vllm-tool-calling.md has the facts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from fastapi.responses import JSONResponse

from testbed.fake_vllm.model import ServedModel, reply_tokens
from testbed.fake_vllm.protocol import (
    ChatRequest,
    ResponsesRequest,
    content_text,
    error_response,
    not_played,
)


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
        texts += [content_text(item.get("content")) for item in items if isinstance(item, dict)]
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


def function_tools(tools: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
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
class Call:
    """One function call the fake's model makes."""

    name: str
    arguments: str
    """JSON text, as both APIs carry it."""

    @property
    def text(self) -> str:
        """What the model writes for it (the JSON body of e.g. a hermes `<tool_call>`)."""
        return f'{{"name": "{self.name}", "arguments": {self.arguments}}}'


def scripted_call(
    model: ServedModel, name: str, tools: list[dict[str, Any]] | None, body: dict[str, Any]
) -> Call | JSONResponse:
    """The model's call of a tool, with the scripted arguments.

    Where vLLM's grammar pins the arguments to the tool's schema (strict level
    `parameter`, or a tool marked `strict`: structural_tag_registry.py:175-197 and
    352-355), scripted arguments that break it are a broken test: 500.
    """
    tool = function_tools(tools)[name]
    parameters = tool.get("parameters") or {}
    arguments = model.tool_arguments(FunctionCallRequest(name, parameters, body))
    if model.tool_strict_level == "parameter" or tool.get("strict") is True:
        try:
            jsonschema.validate(arguments, parameters)
        except jsonschema.ValidationError as error:
            message = f"Fake vLLM: scripted arguments break the enforced schema: {error.message}"
            return error_response(500, message)
    return Call(name, json.dumps(arguments, ensure_ascii=False))


def responses_call(model: ServedModel, request: ResponsesRequest) -> Call | JSONResponse | None:
    """The function call a Responses request gets, None for a text answer, or vLLM's 400."""
    choice, tools = request.tool_choice, function_tools(request.tools)
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
    if model.tool_parser is None or choice == "none" or not tools:
        return None  # responses/serving.py:1050-1068; parser/abstract_parser.py:394-398
    name = choice["name"] if named else next(iter(tools))
    return scripted_call(model, name, request.tools, request.model_dump())


def chat_call(model: ServedModel, request: ChatRequest) -> Call | JSONResponse | None:
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
    tools = function_tools(request.tools)
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    if isinstance(choice, dict) and name not in tools:  # chat_completion/protocol.py:1009-1018
        message = "The tool specified in `tool_choice` does not match any of the specified `tools`"
        return error_response(400, message, "BadRequestError", "tool_choice")
    if model.tool_parser is None:  # renderers/online_renderer.py:259-280
        if choice == "auto":
            message = (
                '"auto" tool choice requires '
                "--enable-auto-tool-choice and --tool-call-parser to be set"
            )
        else:
            described = f'function "{name}"' if name else f'"{choice}"'
            message = f"tool_choice={described} requires --tool-call-parser to be set"
        return error_response(400, message, "BadRequestError")
    return scripted_call(model, name or next(iter(tools)), request.tools, request.model_dump())


@dataclass(frozen=True)
class Answer:
    """What the model generates: its words as tokens (with leading spaces), why it stopped,
    and the function call they make (None for text, and for a call cut short)."""

    tokens: list[str]
    finish: str
    call: Call | None


def answer(
    model: ServedModel,
    call: Call | JSONResponse | None,
    *,
    stream: bool | None,
    max_tokens: int | None,
) -> Answer | JSONResponse:
    """vLLM's error for the request's tool choice, 501 for a streamed call (not played), or
    the answer: the call's text (or the reply) cut to `max_tokens`. A call cut short is no
    call: its text is left as content (parser/abstract_parser.py:464-482,
    tool_parsers/hermes_tool_parser.py:116-120)."""
    if isinstance(call, JSONResponse):
        return call
    if call is not None and stream:
        return not_played("streamed function calls")
    tokens, finish = reply_tokens(call.text if call else model.reply, max_tokens)
    return Answer(tokens, finish, call if finish != "length" else None)

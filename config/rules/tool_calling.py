"""Metis's reviews are forced function calls: the chat model must have a known way to serve them.

Without vLLM's tool-call flags, `/v1/responses` answers a forced function call with plain
text and no error, and Metis then reports "No security issues found!" (see
docs/reference/vllm-tool-calling.md). So a chat model the project cannot configure for
function calls, or an image too old for the flags, is refused here.
"""

from __future__ import annotations

from collections.abc import Iterator

from config.defaults import DEFAULT_CHAT_MODEL
from config.errors import NOT_SET, Problem, config_key
from config.images import (
    CHAT_TEMPLATE_KWARGS_SINCE,
    DEFAULT_VLLM_IMAGE,
    RESPONSES_API_SINCE,
    REVIEW_FUNCTION_CALLS_SINCE,
    Version,
    format_version,
)
from config.settings import Settings

REVIEWS_CALL_FUNCTIONS = (
    "Metis's reviews are forced function calls: without a tool-call parser vLLM answers "
    "them with text and Metis reports no findings"
)
DESCRIBE_IT = "tool_calling: {parser: <its family's vLLM --tool-call-parser, e.g. hermes>}"


RESPONSES_CLIENTS = ("1.4", "1.5")
"""Metis releases that review through `/v1/responses` (1.0 to 1.3 use chat completions)."""


def chat_model_tool_calling(s: Settings) -> Iterator[Problem]:
    if s.chat.model not in s.catalog.models:
        yield Problem(
            config_key("chat", "model"),
            s.chat.model,
            f"the project knows no tool-call configuration for it; {REVIEWS_CALL_FUNCTIONS}",
            f"use a catalog chat model (e.g. {DEFAULT_CHAT_MODEL}; the README lists them under "
            "Metis reviews), or describe it under metis-llm:catalog.models with its sizing "
            f"fields and {DESCRIBE_IT}",
        )
    elif (spec := s.chat_spec) is not None and spec.tool_calling is None:
        yield Problem(
            config_key("catalog", "models", s.chat.model, "tool_calling"),
            NOT_SET,
            f"{s.chat.model} is the chat model; {REVIEWS_CALL_FUNCTIONS}",
            f"set {DESCRIBE_IT}",
        )


def _too_old(s: Settings, since: Version, needs: str) -> Problem:
    release = format_version(since)
    return Problem(
        config_key("images", "vllm"),
        s.images.vllm,
        f"{needs}, which this project knows to work from vLLM {release}",
        f"use vLLM {release} or newer, e.g. {DEFAULT_VLLM_IMAGE}",
    )


def vllm_serves_reviews(s: Settings) -> Iterator[Problem]:
    version = s.images.vllm_version_in_image
    if version is None or version < RESPONSES_API_SINCE:
        return  # reported by config.rules.images
    tool_calling = s.chat_spec.tool_calling if s.chat_spec else None
    if s.metis.version in RESPONSES_CLIENTS and version < REVIEW_FUNCTION_CALLS_SINCE:
        yield _too_old(
            s,
            REVIEW_FUNCTION_CALLS_SINCE,
            f"Metis {s.metis.version} reviews through forced function calls on /v1/responses "
            "(an older vLLM may answer them with text, and Metis then reports no findings)",
        )
    elif tool_calling and tool_calling.thinking_off and version < CHAT_TEMPLATE_KWARGS_SINCE:
        yield _too_old(
            s,
            CHAT_TEMPLATE_KWARGS_SINCE,
            f"{s.chat.model} needs its thinking turned off with --default-chat-template-kwargs",
        )


RULES = (chat_model_tool_calling, vllm_serves_reviews)

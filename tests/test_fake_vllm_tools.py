"""The test vLLM server plays vLLM 0.32.0's function calls as the rendered flags dictate.

Each test names the vLLM source it holds the fake to (file:line in the 0.32.0 wheel); the
facts are in docs/reference/vllm-tool-calling.md. The server is built from the command the
dev stack renders, so a flag the renderer drops changes what these tests see.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from renderers.vllm import vllm_command
from testbed.fake_vllm import (
    TOOL_CALL_FLAGS,
    FakeVllm,
    FunctionCallRequest,
    VllmFlags,
    VllmLaunchError,
    without_flags,
)
from tests.config_cases import valid
from tests.support.stacks import stack_raw_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

KEY = "sk-fake-tools"
REVIEW_REQUEST = json.loads(
    (Path(__file__).parent / "data" / "metis-review-request-1.5.0.json").read_text()
)
"""A request Metis 1.5.0 sent during review_file (captured through LiteLLM; prompt shortened)."""
SCHEMA = REVIEW_REQUEST["tools"][0]["parameters"]
FINDING = {
    "issue": "Command injection",
    "code_snippet": 'subprocess.call("ls " + x, shell=True)',
    "start_line": 3,
    "end_line": 3,
    "reasoning": "x reaches a shell unescaped.",
    "mitigation": "Pass a list of arguments without shell=True.",
    "confidence": 0.9,
    "cwe": "CWE-78",
    "severity": "HIGH",
}


def dev_chat_command() -> list[str]:
    return vllm_command(valid(stack_raw_config("dev")), "chat")


def findings(*reviews: dict[str, Any]):
    return lambda call: {"reviews": list(reviews)}


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a fake from a command; returns an httpx client on its /v1."""
    running: list[FakeVllm] = []
    clients: list[httpx.Client] = []

    def start(command: list[str], **options: Any) -> httpx.Client:
        fake = FakeVllm.from_command(command, KEY, **options).start()
        running.append(fake)
        client = httpx.Client(
            base_url=fake.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for fake in running:
        fake.kill()


def review(client: httpx.Client, **changes: Any) -> httpx.Response:
    return client.post("/responses", json={**copy.deepcopy(REVIEW_REQUEST), **changes})


def output_types(answer: httpx.Response) -> list[str]:
    return [item["type"] for item in answer.json()["output"]]


# The flags


def test_the_rendered_dev_command_builds_a_hermes_parser_with_pinned_arguments():
    flags = VllmFlags.parse(dev_chat_command())
    assert (flags.tool_parser, flags.tool_strict_level) == ("hermes", "parameter")


def test_a_parser_without_auto_tool_choice_builds_no_parser():
    # parser/parser_manager.py:36-37
    assert (
        VllmFlags.parse(without_flags(dev_chat_command(), "--enable-auto-tool-choice")).tool_parser
        is None
    )


def test_auto_tool_choice_without_a_parser_fails_at_launch():
    # entrypoints/launchers/cli_args.py:522-524
    with pytest.raises(VllmLaunchError, match="requires --tool-call-parser"):
        VllmFlags.parse(without_flags(dev_chat_command(), "--tool-call-parser"))


def test_an_unregistered_parser_fails_at_launch():
    # parser/parser_manager.py:49-55
    command = dev_chat_command()
    command[command.index("--tool-call-parser") + 1] = "hermes2"
    with pytest.raises(VllmLaunchError, match="has not been registered"):
        VllmFlags.parse(command)


# /v1/responses


def test_metis_review_request_gets_one_function_call_whose_arguments_fit_its_schema(serve):
    answer = review(serve(dev_chat_command(), tool_arguments=findings(FINDING)))
    (item,) = answer.json()["output"]
    assert (item["type"], item["name"]) == ("function_call", "ReviewResponseModel")
    arguments = json.loads(item["arguments"])
    jsonschema.validate(arguments, SCHEMA)
    assert arguments["reviews"] == [FINDING]


@pytest.mark.parametrize("flag", ["--enable-auto-tool-choice", "--tool-call-parser"])
def test_without_a_tool_flag_the_review_gets_text_and_status_200(serve, flag):
    # responses/serving.py:1050-1068: "Fallback when no parser is configured"
    command = without_flags(dev_chat_command(), flag)
    if flag == "--tool-call-parser":  # auto tool choice alone would not launch
        command = without_flags(command, "--enable-auto-tool-choice")
    answer = review(serve(command, tool_arguments=findings(FINDING)))
    assert answer.status_code == 200
    assert output_types(answer) == ["message"]


def test_a_named_choice_not_among_the_tools_is_a_400(serve):
    # responses/protocol.py:775-782 and 205-208
    answer = review(serve(dev_chat_command()), tool_choice={"type": "function", "name": "Other"})
    assert answer.status_code == 400
    assert "not found in 'tools'" in answer.json()["error"]["message"]


def test_a_named_choice_without_tools_is_a_400(serve):
    # responses/protocol.py:770-774
    assert review(serve(dev_chat_command()), tools=[]).status_code == 400


def test_required_without_tools_is_a_400(serve):
    # responses/protocol.py:765-769
    answer = review(serve(dev_chat_command()), tools=[], tool_choice="required")
    assert answer.status_code == 400


@pytest.mark.parametrize("choice", ["required", "auto"])
def test_required_and_auto_call_a_function_with_a_parser(serve, choice):
    assert output_types(review(serve(dev_chat_command()), tool_choice=choice)) == ["function_call"]


def test_a_tool_choice_of_none_gets_text(serve):
    # parser/abstract_parser.py:394-398
    assert output_types(review(serve(dev_chat_command()), tool_choice="none")) == ["message"]


def test_pinned_arguments_that_break_the_schema_are_a_broken_script_not_an_answer(serve):
    # tool_parsers/structural_tag_registry.py:175-197, 352-355: the grammar holds them to it
    bad = {**FINDING, "cwe": "78"}
    assert review(serve(dev_chat_command(), tool_arguments=findings(bad))).status_code == 500


def test_without_the_strict_level_the_arguments_are_not_held_to_the_schema(serve):
    # A tool not marked strict keeps free arguments below `parameter` (same lines).
    bad = {**FINDING, "cwe": "78"}
    command = without_flags(dev_chat_command(), "--tool-strict-level")
    (item,) = review(serve(command, tool_arguments=findings(bad))).json()["output"]
    assert json.loads(item["arguments"])["reviews"] == [bad]


def test_a_call_cut_off_by_max_output_tokens_comes_back_as_incomplete_text(serve):
    # responses/serving.py:841-842; parser/abstract_parser.py:464-482
    answer = review(
        serve(dev_chat_command(), tool_arguments=findings(FINDING)), max_output_tokens=5
    )
    assert answer.json()["status"] == "incomplete"
    assert output_types(answer) == ["message"]


def test_a_streamed_function_call_is_not_played(serve):
    assert review(serve(dev_chat_command()), stream=True).status_code == 501


def test_the_script_sees_the_tool_and_the_prompt(serve):
    seen: list[FunctionCallRequest] = []
    review(serve(dev_chat_command(), tool_arguments=lambda call: seen.append(call) or {}))
    (call,) = seen
    assert (call.name, call.parameters) == ("ReviewResponseModel", SCHEMA)
    assert "FILE: code/app.py" in call.prompt_text


# /v1/chat/completions

CHAT_TOOLS = [
    {"type": "function", "function": {"name": "ReviewResponseModel", "parameters": SCHEMA}}
]
NAMED = {"type": "function", "function": {"name": "ReviewResponseModel"}}


def chat(client: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": "review"}], "tools": CHAT_TOOLS, **fields}
    return client.post("/chat/completions", json=body)


def no_parser() -> list[str]:
    return without_flags(dev_chat_command(), *TOOL_CALL_FLAGS)


def test_chat_with_tools_and_no_parser_is_a_400_for_auto(serve):
    # renderers/online_renderer.py:264-270
    answer = chat(serve(no_parser()))
    assert answer.status_code == 400
    assert "--enable-auto-tool-choice and --tool-call-parser" in answer.json()["error"]["message"]


def test_chat_with_a_named_tool_and_no_parser_is_a_400(serve):
    # renderers/online_renderer.py:271-280
    answer = chat(serve(no_parser()), tool_choice=NAMED)
    assert (
        'tool_choice=function "ReviewResponseModel" requires' in answer.json()["error"]["message"]
    )


def test_chat_with_a_parser_returns_the_named_call_and_stops(serve):
    # chat_completion/serving.py:1096-1118: "stop" for a named choice
    choice = chat(serve(dev_chat_command()), tool_choice=NAMED).json()["choices"][0]
    (call,) = choice["message"]["tool_calls"]
    assert (call["function"]["name"], choice["finish_reason"]) == ("ReviewResponseModel", "stop")

"""Validation: a chat model must have a known way to serve Metis's forced function calls."""

import pytest

from config.catalog import SEED_MODELS, ChatModelSpec
from config.rules.models import MANAGED_FLAGS
from tests.config_cases import problem_at, problems, valid, with_changes

NEW_CHAT = {
    "kind": "chat", "params_b": 1.5, "layers": 28, "attention_heads": 12, "kv_heads": 2,
    "head_dim": 128, "context": 32768,
}  # fmt: skip


@pytest.mark.parametrize(
    "model", [name for name, spec in SEED_MODELS.items() if isinstance(spec, ChatModelSpec)]
)
def test_every_seed_chat_model_has_a_tool_call_configuration(model):
    assert SEED_MODELS[model].tool_calling is not None


def test_a_chat_model_the_catalog_lacks_is_refused_with_the_way_to_describe_it(minimal_raw):
    raw = with_changes(minimal_raw, chat={"model": "org/new-chat", "max_model_len": 8192})
    problem = problem_at(raw, "metis-llm:chat.model")
    assert "Metis reports no findings" in problem.reason
    assert "metis-llm:catalog.models" in problem.fix
    assert "tool_calling: {parser:" in problem.fix
    assert "Qwen/Qwen2.5-Coder-7B-Instruct" in problem.fix


def test_that_model_described_with_its_parser_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw,
        chat={"model": "org/new-chat"},
        catalog={"models": {"org/new-chat": {**NEW_CHAT, "tool_calling": {"parser": "hermes"}}}},
    )
    assert valid(raw).chat_spec.tool_calling.parser == "hermes"


def test_a_catalog_chat_model_without_its_tool_calling_is_refused(minimal_raw):
    raw = with_changes(
        minimal_raw,
        chat={"model": "org/new-chat"},
        catalog={"models": {"org/new-chat": NEW_CHAT}},
    )
    problem = problem_at(raw, "metis-llm:catalog.models.org/new-chat.tool_calling")
    assert problem.fix.startswith("set tool_calling: {parser:")


def test_a_parser_name_that_is_no_command_line_word_is_refused(minimal_raw):
    override = {"Qwen/Qwen2.5-Coder-7B-Instruct": {"tool_calling": {"parser": "-x y"}}}
    (problem,) = problems(with_changes(minimal_raw, catalog={"models": override}))
    assert problem.key.endswith("tool_calling.parser")
    assert problem.reason == "string should match pattern '^[a-z0-9][a-z0-9_.-]{0,63}$'"
    assert problem.fix == "use the form named"


def test_a_vllm_older_than_the_read_review_path_is_refused_for_metis_15(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": "vllm/vllm-openai:v0.25.0"})
    problem = problem_at(raw, "metis-llm:images.vllm")
    assert "forced function calls on /v1/responses" in problem.reason
    assert "vLLM 0.25.1 or newer" in problem.fix


def test_the_oldest_read_vllm_is_valid_for_metis_15(minimal_raw):
    valid(with_changes(minimal_raw, images={"vllm": "vllm/vllm-openai:v0.25.1"}))


def test_that_older_vllm_is_valid_for_metis_13_which_uses_chat_completions(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": "vllm/vllm-openai:v0.20.0"}, metis={"version": "1.3"}
    )
    valid(raw)


def test_a_thinking_model_on_a_vllm_without_the_thinking_switch_is_refused(minimal_raw):
    raw = with_changes(
        minimal_raw,
        chat={"model": "Qwen/Qwen3-8B", "max_model_len": 16384},
        images={"vllm": "vllm/vllm-openai:v0.20.0"},
        metis={"version": "1.3"},
    )
    assert "--default-chat-template-kwargs" in problem_at(raw, "metis-llm:images.vllm").reason


@pytest.mark.parametrize(
    "arg", ["--enable-auto-tool-choice", "--tool-call-parser=pythonic", "--tool-strict-level"]
)
def test_extra_args_cannot_change_the_tool_call_flags(minimal_raw, arg):
    raw = with_changes(minimal_raw, chat={"extra_args": [arg]})
    assert "is managed by this project" in problem_at(raw, "metis-llm:chat.extra_args[0]").reason


def test_the_thinking_switch_is_managed_too():
    assert "--default-chat-template-kwargs" in MANAGED_FLAGS

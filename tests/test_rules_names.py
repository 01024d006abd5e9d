"""Validation: names that reach command lines and rendered configs (models, served names,
vLLM arguments, the SSH identity file) hold no control characters and no surrounding spaces,
and no model or served name reads as a flag."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.config_cases import problem_at, valid, with_changes

CONTROL = ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\u2028"]


@pytest.mark.parametrize("char", CONTROL, ids=repr)
@pytest.mark.parametrize(
    ("section", "field"),
    [("chat", "served_name"), ("embedding", "served_name"), ("chat", "model")],
)
def test_a_control_character_in_a_name_is_refused(minimal_raw, char, section, field):
    changes = {field: f"my{char}name", "max_model_len": 512}
    if section == "embedding":
        changes["dimension"] = 768
    raw = with_changes(minimal_raw, **{section: changes})
    problem = problem_at(
        raw, f"metis-llm:{section}.{field}", about=f"holds a control character (U+{ord(char):04X})"
    )
    assert problem.reason.endswith("line breaks would split the rendered configs")
    assert problem.fix == "remove it"


def test_a_nul_in_a_vllm_argument_is_refused(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--max-num-seqs=6\x004"]})
    assert "U+0000" in problem_at(raw, "metis-llm:chat.extra_args[0]").reason


def test_a_control_character_in_the_identity_file_is_refused(minimal_raw):
    raw = with_changes(minimal_raw, access={"ssh_identity_file": "~/.ssh/id\n"})
    problem = problem_at(raw, "metis-llm:access.ssh_identity_file")
    assert problem.reason.startswith("holds a control character (U+000A): Docker refuses NUL")
    assert problem.fix == "remove it"


@pytest.mark.parametrize("field", ["model", "served_name"])
@pytest.mark.parametrize("name", [" Qwen/Qwen3-8B", "Qwen/Qwen3-8B "])
def test_a_name_with_spaces_around_it_is_refused(minimal_raw, field, name):
    raw = with_changes(minimal_raw, chat={field: name, "max_model_len": 4096})
    problem = problem_at(raw, f"metis-llm:chat.{field}", about="spaces")
    assert problem.fix == "write 'Qwen/Qwen3-8B'"


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(min_size=1, max_size=40).filter(
        lambda name: any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" for c in name)
    )
)
def test_any_served_name_with_a_control_character_is_refused(minimal_raw, name):
    raw = with_changes(minimal_raw, chat={"served_name": name})
    problem = problem_at(raw, "metis-llm:chat.served_name", about="holds a control character")
    assert problem.fix == "remove it"


def test_an_ordinary_served_name_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, chat={"served_name": "qwen2.5-coder:7b (team A)"}))

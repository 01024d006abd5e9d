"""Malformed config: one message naming the key, the bad value and the fix; no traceback."""

import pytest

from config.errors import ConfigError
from config.loader import load_settings
from tests.config_cases import problem_at, problems, valid, with_changes


def test_a_wrong_type_names_the_key_the_value_and_the_fix(minimal_raw):
    problem = problem_at(
        with_changes(minimal_raw, chat={"max_model_len": "big"}), "metis-llm:chat.max_model_len"
    )
    assert problem.value == "big"
    assert problem.fix == "use a whole number"
    assert str(problem).startswith('metis-llm:chat.max_model_len = "big": ')


def test_yes_is_not_a_boolean(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"spot": "yes"}})
    assert problem_at(raw, "metis-llm:hosts.gpu-1.spot").fix == "use true or false"


def test_a_value_out_of_range_names_the_limit(minimal_raw):
    raw = with_changes(minimal_raw, chat={"gpu_memory_utilization": 1.2})
    assert "0.95" in problem_at(raw, "metis-llm:chat.gpu_memory_utilization").reason


def test_a_value_outside_a_fixed_set_names_the_choices(minimal_raw):
    raw = with_changes(minimal_raw, chat={"dtype": "fp8"})
    assert "'bfloat16'" in problem_at(raw, "metis-llm:chat.dtype").reason


def test_a_key_named_like_pydantics_key_marker_is_reported_as_unknown(minimal_raw):
    problem = problem_at({**minimal_raw, "[key]": None}, "metis-llm:[key]")
    assert problem.fix.startswith("remove it")


def test_a_misspelt_key_gets_a_suggestion(minimal_raw):
    raw = with_changes(minimal_raw, chat={"max_model_length": 4096})
    assert "did you mean max_model_len" in problem_at(raw, "metis-llm:chat.max_model_length").fix


def test_an_unknown_top_level_key_is_reported(minimal_raw):
    problem = problem_at({**minimal_raw, "chta": {}}, "metis-llm:chta")
    assert problem.reason == "extra inputs are not permitted"
    assert problem.fix == "remove it (did you mean chat?)"


def test_a_host_name_that_cannot_name_resources_is_reported(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"GPU_1": {}}, chat={"hosts": ["GPU_1"]}, embedding={"hosts": ["GPU_1"]}
    )
    problem = problem_at(raw, "metis-llm:hosts.GPU_1")
    assert "lowercase" in problem.fix


def test_a_section_of_the_wrong_shape_is_reported(minimal_raw):
    problem = problem_at({**minimal_raw, "chat": ["Qwen/Qwen3-8B"]}, "metis-llm:chat")
    assert problem.reason == "input should be a valid dictionary or instance of ChatConfig"
    assert problem.fix == "use a mapping of keys to values"


def test_a_derived_key_is_not_reported_missing_when_its_source_is_wrong(minimal_raw):
    raw = with_changes(minimal_raw, chat={"max_model_len": "big"})
    assert [p.key for p in problems(raw)] == ["metis-llm:chat.max_model_len"]


def test_the_error_is_one_message_listing_every_problem(minimal_raw):
    raw = with_changes(minimal_raw, chat={"max_model_len": "big"}, router={"port": 80})
    with pytest.raises(ConfigError) as caught:
        load_settings(raw)
    message = str(caught.value)
    assert message.startswith("invalid stack config (2 problems):")
    assert "metis-llm:chat.max_model_len" in message
    assert "metis-llm:router.port" in message


def test_the_hf_token_is_never_read_into_the_settings(minimal_raw):
    settings = valid({**minimal_raw, "hf_token": "hf_secret"}, has_hf_token=True)
    assert "hf_secret" not in settings.model_dump_json()


def test_a_catalog_override_changes_only_the_fields_given(minimal_raw):
    raw = {**minimal_raw, "catalog": {"instances": {"g6e.xlarge": {"usd_per_hour": 1.5}}}}
    instance = valid(raw).catalog.instances["g6e.xlarge"]
    assert (instance.usd_per_hour, instance.gib_per_gpu) == (1.5, 46068 / 1024)


def test_a_new_catalog_model_needs_its_kind(minimal_raw):
    raw = {
        **minimal_raw,
        "catalog": {"models": {"org/new": {"params_b": 1, "dimension": 8, "max_tokens": 9}}},
    }
    assert "kind" in problem_at(raw, "metis-llm:catalog.models.org/new").fix


def test_a_catalog_entry_with_a_bad_field_is_reported(minimal_raw):
    raw = {**minimal_raw, "catalog": {"instances": {"g6e.xlarge": {"usd_per_hour": "cheap"}}}}
    problem = problem_at(raw, "metis-llm:catalog.instances.g6e.xlarge.usd_per_hour")
    assert (problem.reason, problem.fix) == ("input should be a valid number", "use a number")

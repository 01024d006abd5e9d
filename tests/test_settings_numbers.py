"""Numbers written as text: `pulumi config set --path` stores decimals as strings, and the
schema reads them as `pulumi.Config.get_float` / `get_int` do (Python's `float()` / `int()`,
pulumi 3.x sdk/python/lib/pulumi/config.py), while every other type error still fails."""

import pytest

from tests.config_cases import problem_at, valid, with_changes


def test_a_decimal_stored_as_text_is_read_as_a_number(minimal_raw):
    settings = valid(with_changes(minimal_raw, chat={"gpu_memory_utilization": "0.85"}))
    assert settings.chat.gpu_memory_utilization == 0.85


def test_a_whole_number_stored_as_text_is_read_as_an_int(minimal_raw):
    assert valid(with_changes(minimal_raw, router={"port": "8888"})).router.port == 8888


@pytest.mark.parametrize("text", [" 0.5 ", "5e-1", "+0.5", "0_0.5"])
def test_a_decimal_is_read_with_pythons_float_as_get_float_does(minimal_raw, text):
    settings = valid(with_changes(minimal_raw, metis={"temperature": text}))
    assert settings.metis.temperature == 0.5


def test_a_catalog_price_stored_as_text_is_read_as_a_number(minimal_raw):
    raw = {**minimal_raw, "catalog": {"instances": {"g6e.xlarge": {"usd_per_hour": "1.5"}}}}
    assert valid(raw).catalog.instances["g6e.xlarge"].usd_per_hour == 1.5


def test_a_word_in_a_number_field_is_still_refused(minimal_raw):
    raw = with_changes(minimal_raw, chat={"gpu_memory_utilization": "high"})
    problem = problem_at(raw, "metis-llm:chat.gpu_memory_utilization")
    assert (problem.value, problem.fix) == ("high", "use a number")


def test_a_decimal_in_a_whole_number_field_is_refused_as_get_int_refuses_it(minimal_raw):
    problem = problem_at(
        with_changes(minimal_raw, router={"port": "8888.0"}), "metis-llm:router.port"
    )
    assert problem.fix == "use a whole number"


def test_a_bool_in_a_number_field_is_still_refused(minimal_raw):
    raw = with_changes(minimal_raw, chat={"gpu_memory_utilization": True})
    problem = problem_at(raw, "metis-llm:chat.gpu_memory_utilization")
    assert (problem.value, problem.reason, problem.fix) == (
        True,
        "input should be a valid number",
        "use a number",
    )


def test_a_list_in_a_number_field_is_still_refused(minimal_raw):
    raw = with_changes(minimal_raw, chat={"gpu_memory_utilization": [0.9]})
    assert problem_at(raw, "metis-llm:chat.gpu_memory_utilization").fix == "use a number"


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused(minimal_raw, text):
    problem = problem_at(
        with_changes(minimal_raw, metis={"temperature": text}), "metis-llm:metis.temperature"
    )
    assert (problem.reason, problem.fix) == ("input should be a valid number", "use a number")


def test_text_in_a_text_field_stays_text(minimal_raw):
    assert valid(with_changes(minimal_raw, metis={"version": "1.5"})).metis.version == "1.5"


def test_a_number_read_from_text_is_still_checked_against_its_limits(minimal_raw):
    raw = with_changes(minimal_raw, chat={"gpu_memory_utilization": "1.2"})
    assert "0.95" in problem_at(raw, "metis-llm:chat.gpu_memory_utilization").reason

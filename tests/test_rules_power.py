"""Validation of the working-hours schedule and the idle stop: one problem per mistake, naming
the key, the value and the fix; the neighbouring valid config passes."""

from __future__ import annotations

import pytest

from tests.config_cases import problem_at, problems, valid, with_changes

SCHEDULE = {
    "start": "cron(0 7 ? * MON-FRI *)",
    "stop": "cron(0 20 ? * MON-FRI *)",
    "timezone": "Europe/Berlin",
}


def test_a_weekday_schedule_in_a_named_zone_is_valid(minimal_raw):
    settings = valid(with_changes(minimal_raw, schedule=SCHEDULE))

    assert settings.schedule is not None
    assert settings.stops


def test_no_schedule_and_no_idle_stop_means_the_hosts_never_stop_by_themselves(minimal_raw):
    assert not valid(minimal_raw).stops


def test_a_bad_cron_expression_is_refused_with_the_example_form(minimal_raw):
    raw = with_changes(minimal_raw, schedule={**SCHEDULE, "start": "0 7 * * 1-5"})

    problem = problem_at(raw, "metis-llm:schedule.start")

    assert "not a cron expression" in problem.reason
    assert "cron(0 7 ? * MON-FRI *)" in problem.fix


def test_a_schedule_needs_both_times_and_a_zone(minimal_raw):
    found = problems(with_changes(minimal_raw, schedule={"start": SCHEDULE["start"]}))

    assert {p.key for p in found} == {"metis-llm:schedule.stop", "metis-llm:schedule.timezone"}


def test_an_unknown_time_zone_is_refused_with_the_closest_name(minimal_raw):
    raw = with_changes(minimal_raw, schedule={**SCHEDULE, "timezone": "Europe/Berln"})

    problem = problem_at(raw, "metis-llm:schedule.timezone")

    assert problem.reason == "not an IANA time zone"
    assert "did you mean Europe/Berlin?" in problem.fix


def test_a_zone_abbreviation_is_not_a_zone(minimal_raw):
    raw = with_changes(minimal_raw, schedule={**SCHEDULE, "timezone": "CEST"})

    assert problem_at(raw, "metis-llm:schedule.timezone").reason == "not an IANA time zone"


def test_a_day_that_never_comes_is_refused(minimal_raw):
    raw = with_changes(minimal_raw, schedule={**SCHEDULE, "start": "cron(0 7 30 FEB ? *)"})

    assert problem_at(raw, "metis-llm:schedule.start").reason == "never fires within a year"


def test_start_and_stop_at_the_same_time_is_refused_naming_when(minimal_raw):
    raw = with_changes(minimal_raw, schedule={**SCHEDULE, "stop": "cron(0 7 ? * FRI *)"})

    problem = problem_at(raw, "metis-llm:schedule")

    assert "both fire at Fri 2027-01-08 07:00 Europe/Berlin" in problem.reason


def test_an_idle_window_not_longer_than_the_router_timeout_is_refused(minimal_raw):
    raw = with_changes(minimal_raw, idle_stop={"minutes": 10})

    problem = problem_at(raw, "metis-llm:idle_stop.minutes")

    assert "router.timeout_seconds (600 s)" in problem.reason
    assert "set idle_stop.minutes to 11 or more" in problem.fix


def test_an_idle_window_longer_than_the_router_timeout_is_valid(minimal_raw):
    raw = with_changes(minimal_raw, idle_stop={"minutes": 11})

    assert valid(raw).idle_stop.minutes == 11


def test_a_shorter_router_timeout_allows_a_shorter_idle_window(minimal_raw):
    raw = with_changes(minimal_raw, idle_stop={"minutes": 5}, router={"timeout_seconds": 240})

    assert valid(raw).idle_stop.minutes == 5


def test_the_idle_window_defaults_to_half_an_hour(minimal_raw):
    assert valid(with_changes(minimal_raw, idle_stop={})).idle_stop.minutes == 30


def test_an_idle_window_longer_than_a_day_is_refused(minimal_raw):
    raw = with_changes(minimal_raw, idle_stop={"minutes": 1441})

    assert "1440" in problem_at(raw, "metis-llm:idle_stop.minutes").reason


@pytest.mark.parametrize("arg", ["--disable-log-stats", "--disable_log_stats", "--disable-log-st"])
def test_turning_off_vllms_request_metrics_is_refused_with_idle_stop(minimal_raw, arg):
    raw = with_changes(minimal_raw, idle_stop={}, chat={"extra_args": [arg]})

    problem = problem_at(raw, "metis-llm:chat.extra_args[0]")

    assert "removes the request metrics the idle stop reads" in problem.reason


def test_without_idle_stop_vllms_request_metrics_may_be_turned_off(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--disable-log-stats"]})

    assert valid(raw).chat.extra_args == ["--disable-log-stats"]

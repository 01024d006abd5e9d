"""EventBridge cron expressions as config/cron.py reads them, and the working hours two of
them make (config/working_hours.py). Syntax: AWS's cron reference
(docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.cron import CronError, parse
from config.working_hours import WorkingHours

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_7_TO_20 = ("cron(0 7 ? * MON-FRI *)", "cron(0 20 ? * MON-FRI *)")


def fires(text: str, zone: ZoneInfo, begin: datetime, days: int = 7) -> list[datetime]:
    return list(parse(text).fire_times(zone, begin, begin + timedelta(days=days)))


def test_weekday_names_and_numbers_count_from_sunday_as_aws_does():
    assert (
        parse("cron(0 7 ? * MON-FRI *)").days_of_week == parse("cron(0 7 ? * 2-6 *)").days_of_week
    )


def test_a_weekday_schedule_fires_monday_to_friday_at_local_time():
    monday = datetime(2027, 1, 4, tzinfo=UTC)

    times = fires("cron(0 7 ? * MON-FRI *)", BERLIN, monday)

    assert [t.astimezone(BERLIN).strftime("%a %H:%M") for t in times] == [
        "Mon 07:00",
        "Tue 07:00",
        "Wed 07:00",
        "Thu 07:00",
        "Fri 07:00",
    ]
    assert times[0] == datetime(2027, 1, 4, 6, 0, tzinfo=UTC)  # CET is UTC+1


def test_lists_ranges_and_steps_expand_to_every_value():
    cron = parse("cron(0/15 8-10,14 1,15 JAN-MAR ? *)")

    assert cron.minutes == {0, 15, 30, 45}
    assert cron.hours == {8, 9, 10, 14}
    assert cron.days_of_month == {1, 15}
    assert cron.months == {1, 2, 3}


def test_a_time_the_clock_skips_does_not_fire_and_a_repeated_one_fires_once():
    spring = fires("cron(30 2 * * ? *)", BERLIN, datetime(2027, 3, 27, tzinfo=UTC), days=3)
    autumn = fires("cron(30 2 * * ? *)", BERLIN, datetime(2027, 10, 30, tzinfo=UTC), days=3)

    assert [t.astimezone(BERLIN).day for t in spring] == [27, 29]  # 28 March: 02:00 -> 03:00
    assert [t.astimezone(BERLIN).day for t in autumn] == [30, 31, 1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0 7 ? * MON-FRI *", "not a cron expression"),
        ("cron(0 7 ? * MON-FRI)", "has 5 fields"),
        ("cron(0 7 * * MON-FRI *)", "exactly one of them must be ?"),
        ("cron(0 7 ? * ? *)", "exactly one of them must be ?"),
        ("cron(0 24 ? * MON-FRI *)", "hours has 24, outside 0-23"),
        ("cron(0 7 ? * MON-FUN *)", "day-of-week has 'FUN', not a number or SUN-SAT"),
        ("cron(0 7 ? * FRI-MON *)", "runs backwards"),
        ("cron(0 7 L * ? *)", "L, W and # are not read here"),
        ("cron(0 7 ? * 2#1 *)", "L, W and # are not read here"),
        ("cron(0 7 ? * MON-FRI 2027)", "year has '2027'"),
        ("cron(0/0 7 ? * MON-FRI *)", "a step of 0"),
        ("cron(? 7 ? * MON-FRI *)", "only day-of-month and day-of-week take"),
    ],
)
def test_an_expression_eventbridge_or_this_reader_refuses_says_why(text, reason):
    with pytest.raises(CronError) as error:
        parse(text)

    assert reason in error.value.reason
    assert error.value.fix


def test_weekday_working_hours_run_65_hours_a_week():
    hours = WorkingHours(*map(parse, WEEKDAYS_7_TO_20), BERLIN)

    assert hours.hours_per_week() == pytest.approx(65.0)


def test_a_stop_before_the_start_the_same_day_runs_overnight():
    hours = WorkingHours(parse("cron(0 20 * * ? *)"), parse("cron(0 6 * * ? *)"), ZoneInfo("UTC"))

    assert hours.hours_per_week() == pytest.approx(70.0)


def test_the_state_at_the_start_of_the_year_comes_from_the_last_firing_before_it():
    weekend = WorkingHours(parse("cron(0 18 ? * FRI *)"), parse("cron(0 6 ? * MON *)"), BERLIN)
    monday = datetime(2027, 1, 4, tzinfo=UTC)  # 01:00 in Berlin, inside the weekend run

    first = next(weekend.running(monday, monday + timedelta(days=7)))

    assert first == (monday, datetime(2027, 1, 4, 5, 0, tzinfo=UTC))
    assert weekend.hours_per_week() == pytest.approx(60.0, abs=0.05)


def test_start_and_stop_firing_together_is_a_clash():
    hours = WorkingHours(parse("cron(0 7 ? * MON *)"), parse("cron(0 7 ? * MON,TUE *)"), BERLIN)

    assert hours.first_clash() == datetime(2027, 1, 4, 6, 0, tzinfo=UTC)

"""EventBridge Scheduler cron expressions: read, checked, and when they fire.

The syntax is AWS's (docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html,
the reference EventBridge Scheduler uses): `cron(minutes hours day-of-month month day-of-week
year)`, day-of-week 1-7 = SUN-SAT, one of day-of-month and day-of-week `?`. This module reads
the part a working-hours schedule needs (numbers, names, `*`, `?`, ranges, lists, steps) and
refuses `L`, `W` and `#`, and any year but `*`, so that it can say exactly when a schedule
fires and how many hours a week the stack runs. Firing times follow EventBridge Scheduler's
daylight-saving rules: a time the clock skips does not fire, a time it repeats fires once
(repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst). Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
"""AWS numbers the days of the week 1-7 from Sunday."""
EXAMPLE = "cron(0 7 ? * MON-FRI *)"
_EXPRESSION = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_STEP = re.compile(r"^(?P<base>[^/]+)(/(?P<step>\d+))?$")


class CronError(ValueError):
    """Why an expression is refused, and how to write it instead."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names for the values low, low + 1, ... (months, days of the week)."""


FIELDS = (
    Field("minutes", 0, 59),
    Field("hours", 0, 23),
    Field("day-of-month", 1, 31),
    Field("month", 1, 12, MONTHS),
    Field("day-of-week", 1, 7, DAYS),
    Field("year", 1970, 2199),
)
MINUTES, HOURS, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR = FIELDS


@dataclass(frozen=True)
class Cron:
    """A parsed expression: the values each field allows (None: `?`, any)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None
    """1 = Sunday ... 7 = Saturday, as AWS counts."""

    def matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return day.isoweekday() % 7 + 1 in self.days_of_week

    def fire_times(self, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
        """The instants (UTC) in [start, end) at which the schedule fires, in order."""
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date() + timedelta(days=1)
        while day <= last:
            if self.matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        instant = _instant(day, hour, minute, zone)
                        if instant is not None and start <= instant < end:
                            yield instant
            day += timedelta(days=1)


def _instant(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime | None:
    """A local wall-clock time as a UTC instant; None when the clock skips it (spring
    forward). A repeated time (fall back) is its first occurrence (fold 0)."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    instant = local.astimezone(UTC)
    return (
        instant
        if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)
        else None
    )


def _value(text: str, field: Field) -> int:
    if text.upper() in field.names:
        return field.low + field.names.index(text.upper())
    if not text.isdigit():
        named = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
        raise CronError(
            f"{field.name} has {text!r}, not a number{named}",
            f"write {field.name} as {field.low}-{field.high}{named}, e.g. {EXAMPLE}",
        )
    value = int(text)
    if not field.low <= value <= field.high:
        raise CronError(
            f"{field.name} has {value}, outside {field.low}-{field.high}",
            f"use {field.low}-{field.high} for {field.name}",
        )
    return value


def _part(text: str, field: Field) -> set[int]:
    """One comma-separated part: `*`, `a`, `a-b`, each optionally `/step`."""
    match = _STEP.match(text)
    if match is None:
        raise CronError(f"{field.name} has {text!r}", f"write e.g. {EXAMPLE}")
    base, step = match["base"], int(match["step"] or 1)
    if step == 0:
        raise CronError(f"{field.name} has a step of 0 in {text!r}", "use a step of 1 or more")
    if base == "*":
        low, high = field.low, field.high
    elif "-" in base:
        first, _, second = base.partition("-")
        low, high = _value(first, field), _value(second, field)
        if low > high:
            raise CronError(
                f"{field.name} has the range {base}, which runs backwards",
                f"write the range from its lower end, or list both parts, e.g. {second},{first}",
            )
    else:
        low = _value(base, field)
        high = field.high if match["step"] else low
    return set(range(low, high + 1, step))


def _field(text: str, field: Field) -> frozenset[int]:
    if text == "?":
        raise CronError(
            f"{field.name} has ?, which only day-of-month and day-of-week take",
            f"use * for {field.name}",
        )
    if set(text) & set("LW#"):
        raise CronError(
            f"{field.name} has {text!r}: L, W and # are not read here (this project "
            "computes when a schedule fires and what it costs)",
            "list the days instead, e.g. MON-FRI or 1,15",
        )
    return frozenset(value for part in text.split(",") for value in _part(part, field))


def _days(text: str, field: Field) -> frozenset[int] | None:
    """Day-of-month or day-of-week: `?` (None) leaves the days to the other one."""
    return None if text == "?" else _field(text, field)


def parse(text: str) -> Cron:
    """A cron expression as EventBridge Scheduler takes it, or a CronError."""
    match = _EXPRESSION.match(text)
    if match is None:
        raise CronError(
            "not a cron expression",
            f"write cron(minutes hours day-of-month month day-of-week year), e.g. {EXAMPLE}",
        )
    parts = match["fields"].split()
    if len(parts) != len(FIELDS):
        raise CronError(
            f"has {len(parts)} fields, where EventBridge takes {len(FIELDS)}",
            f"write minutes, hours, day-of-month, month, day-of-week and year, e.g. {EXAMPLE}",
        )
    minutes, hours = _field(parts[0], MINUTES), _field(parts[1], HOURS)
    days_of_month, days_of_week = _days(parts[2], DAY_OF_MONTH), _days(parts[4], DAY_OF_WEEK)
    months = _field(parts[3], MONTH)
    _field(parts[5], YEAR)
    if (days_of_month is None) == (days_of_week is None):
        raise CronError(
            "day-of-month and day-of-week: exactly one of them must be ?",
            f"set the days in one and ? in the other, e.g. {EXAMPLE}",
        )
    if parts[5] != "*":
        raise CronError(
            f"year has {parts[5]!r}: a schedule limited to some years stops firing without notice",
            "use * for the year",
        )
    return Cron(text, minutes, hours, days_of_month, months, days_of_week)

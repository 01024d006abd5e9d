"""What a working-hours schedule means over time: when the stack runs, and for how long a
week. Pure functions over parsed cron expressions (`config.cron`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from config.cron import Cron, parse
from config.settings import ScheduleConfig

REFERENCE_START = datetime(2027, 1, 4, tzinfo=UTC)
"""A Monday: the year of weeks the weekly figures average over (daylight saving included)."""
REFERENCE_WEEKS = 52
LOOK_BACK = timedelta(days=366)
"""How far before the reference year the state at its start is read from."""
HOURS_PER_WEEK = 7 * 24


@dataclass(frozen=True)
class WorkingHours:
    start: Cron
    stop: Cron
    zone: ZoneInfo

    @classmethod
    def of(cls, schedule: ScheduleConfig) -> WorkingHours:
        """A validated schedule's working hours (config/rules/power.py checked it)."""
        return cls(
            parse(schedule.start.strip()), parse(schedule.stop.strip()), ZoneInfo(schedule.timezone)
        )

    def events(self, begin: datetime, end: datetime) -> list[tuple[datetime, bool]]:
        """(instant, starts) of every start and stop firing in [begin, end), in order."""
        starts = ((instant, True) for instant in self.start.fire_times(self.zone, begin, end))
        stops = ((instant, False) for instant in self.stop.fire_times(self.zone, begin, end))
        return sorted([*starts, *stops])

    def running(self, begin: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The spans within [begin, end) in which the schedule keeps the stack running,
        judging the state at `begin` by the last firing in the year before."""
        before = self.events(begin - LOOK_BACK, begin)
        since = begin if before and before[-1][1] else None
        for instant, starts in self.events(begin, end):
            if starts and since is None:
                since = instant
            elif not starts and since is not None:
                yield since, instant
                since = None
        if since is not None:
            yield since, end

    def hours_per_week(self) -> float:
        """Running hours per week, averaged over a reference year of weeks."""
        end = REFERENCE_START + timedelta(weeks=REFERENCE_WEEKS)
        seconds = sum((b - a).total_seconds() for a, b in self.running(REFERENCE_START, end))
        return seconds / 3600 / REFERENCE_WEEKS

    def first_clash(self) -> datetime | None:
        """The first instant of the reference year at which start and stop both fire (their
        order would be undefined), if any."""
        end = REFERENCE_START + timedelta(weeks=REFERENCE_WEEKS)
        stops = set(self.stop.fire_times(self.zone, REFERENCE_START, end))
        return next(
            (t for t in self.start.fire_times(self.zone, REFERENCE_START, end) if t in stops),
            None,
        )


def fires_within_a_year(cron: Cron, zone: ZoneInfo) -> bool:
    end = REFERENCE_START + timedelta(weeks=REFERENCE_WEEKS)
    return next(cron.fire_times(zone, REFERENCE_START, end), None) is not None

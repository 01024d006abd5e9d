"""When the hosts run: the working-hours schedule and the idle stop."""

from __future__ import annotations

import difflib
import math
import zoneinfo
from collections.abc import Iterator
from functools import cache

from config.cron import EXAMPLE, CronError, parse
from config.errors import Problem, config_key
from config.settings import Settings
from config.vllm_flags import flag_of, refused_by
from config.working_hours import WorkingHours, fires_within_a_year


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_problem(name: str) -> tuple[str, str] | None:
    """(reason, fix) when a name is not an IANA time zone EventBridge can read."""
    if name in _zones():
        return None
    close = difflib.get_close_matches(name, _zones(), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return (
        "not an IANA time zone",
        f"{hint}use a name from the tz database, e.g. Europe/Berlin, America/New_York or UTC",
    )


def schedule(s: Settings) -> Iterator[Problem]:
    if s.schedule is None:
        return
    parsed = {}
    for field in ("start", "stop"):
        text = getattr(s.schedule, field)
        try:
            parsed[field] = parse(text.strip())
        except CronError as error:
            yield Problem(config_key("schedule", field), text, error.reason, error.fix)
    if (problem := zone_problem(s.schedule.timezone)) is not None:
        yield Problem(config_key("schedule", "timezone"), s.schedule.timezone, *problem)
        return
    if len(parsed) < 2:
        return
    zone = zoneinfo.ZoneInfo(s.schedule.timezone)
    for field, cron in parsed.items():
        if not fires_within_a_year(cron, zone):
            yield Problem(
                config_key("schedule", field),
                cron.text,
                "never fires within a year",
                f"name days that exist, e.g. {EXAMPLE}",
            )
            return
    hours = WorkingHours(parsed["start"], parsed["stop"], zone)
    if (clash := hours.first_clash()) is not None:
        at = clash.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
        yield Problem(
            config_key("schedule"),
            {"start": hours.start.text, "stop": hours.stop.text},
            f"start and stop both fire at {at} {zone.key}, in no defined order",
            "give stop a time when start does not fire",
        )


def idle_stop(s: Settings) -> Iterator[Problem]:
    """The idle window must outlast the router's per-request timeout: the longest a single
    request can run, so a stop comes only after any request the sampler could have missed
    has ended (docs/reference/idle-cost.md, "Which signal")."""
    if s.idle_stop is None:
        return
    timeout = s.router.timeout_seconds
    if s.idle_stop.minutes * 60 <= timeout:
        least = math.floor(timeout / 60) + 1
        yield Problem(
            config_key("idle_stop", "minutes"),
            s.idle_stop.minutes,
            f"not longer than metis-llm:router.timeout_seconds ({timeout} s), the longest one "
            "request may run: the idle window must outlast any request, even one the activity "
            "sampler did not see",
            f"set idle_stop.minutes to {least} or more, or lower router.timeout_seconds",
        )


STATS_OFF = "--disable-log-stats"
"""vLLM 0.32.0 creates no stat loggers, Prometheus's included, with it (v1/engine/
async_llm.py 194-205, 287; v1/metrics/loggers.py 1416-1419): /metrics lacks the series the
activity publisher reads."""


def idle_stop_metrics(s: Settings) -> Iterator[Problem]:
    if s.idle_stop is None:
        return
    for key, service in s.services.items():
        for index, arg in enumerate(service.extra_args):
            flag = flag_of(arg)
            if flag is not None and refused_by(flag, {STATS_OFF}):
                yield Problem(
                    config_key(key, "extra_args", index),
                    arg,
                    f"is read by vLLM as {STATS_OFF}, which removes the request metrics the idle "
                    "stop reads: no host would stop by itself",
                    "remove it, or remove metis-llm:idle_stop",
                )


RULES = (schedule, idle_stop, idle_stop_metrics)

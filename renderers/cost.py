"""What a stack costs, from the catalog's list prices: per hour, and per month with and
without its working-hours schedule."""

from __future__ import annotations

from dataclasses import dataclass

from config.catalog import PRICES_AS_OF
from config.settings import Settings
from config.working_hours import HOURS_PER_WEEK, WorkingHours

HOURS_PER_MONTH = 730
"""AWS's own monthly figure (8,760 hours a year / 12)."""


@dataclass(frozen=True)
class HourlyCost:
    by_host: dict[str, float]
    prices_as_of: str = PRICES_AS_OF

    @property
    def total(self) -> float:
        return round(sum(self.by_host.values()), 2)


@dataclass(frozen=True)
class MonthlyCost:
    always_on: float
    """Every host running all month."""
    hours_per_week: float | None
    """The schedule's running hours; None without a schedule."""
    scheduled: float | None
    """Running only within the schedule's hours (wakes outside them add to it, the idle
    stop takes from it); None without a schedule."""


def hourly_cost(settings: Settings) -> HourlyCost:
    """On-demand instance prices (an upper bound for spot hosts); disks and traffic excluded."""
    prices = {name: spec.usd_per_hour for name, spec in settings.catalog.instances.items()}
    return HourlyCost(
        by_host={host: prices[config.instance_type] for host, config in settings.hosts.items()}
    )


def monthly_cost(settings: Settings) -> MonthlyCost:
    """Hours a month x price; with a schedule, its hours a week x the weeks of a month."""
    hourly = hourly_cost(settings).total
    always_on = round(hourly * HOURS_PER_MONTH, 2)
    if settings.schedule is None:
        return MonthlyCost(always_on, None, None)
    hours = WorkingHours.of(settings.schedule).hours_per_week()
    scheduled = round(hourly * hours * HOURS_PER_MONTH / HOURS_PER_WEEK, 2)
    return MonthlyCost(always_on, round(hours, 2), scheduled)

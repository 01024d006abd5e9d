"""What a stack costs per hour, from the catalog's list prices."""

from __future__ import annotations

from dataclasses import dataclass

from config.catalog import PRICES_AS_OF
from config.settings import Settings


@dataclass(frozen=True)
class HourlyCost:
    by_host: dict[str, float]
    prices_as_of: str = PRICES_AS_OF

    @property
    def total(self) -> float:
        return round(sum(self.by_host.values()), 2)


def hourly_cost(settings: Settings) -> HourlyCost:
    """On-demand instance prices (an upper bound for spot hosts); disks and traffic excluded."""
    prices = {name: spec.usd_per_hour for name, spec in settings.catalog.instances.items()}
    return HourlyCost(
        by_host={host: prices[config.instance_type] for host, config in settings.hosts.items()}
    )

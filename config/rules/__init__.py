"""Cross-field rules over validated settings. Each rule yields every problem it finds."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from config.errors import Problem
from config.rules import (
    access,
    images,
    metis,
    models,
    monitoring,
    names,
    placement,
    power,
    quantization,
    tool_calling,
)
from config.settings import Settings

Rule = Callable[[Settings], Iterator[Problem]]

RULES: tuple[Rule, ...] = (
    *placement.RULES,
    *models.RULES,
    *images.RULES,
    *access.RULES,
    *metis.RULES,
    *names.RULES,
    *quantization.RULES,
    *tool_calling.RULES,
    *monitoring.RULES,
    *power.RULES,
)


def check(settings: Settings) -> list[Problem]:
    """Every problem of every rule, in a stable order."""
    return [problem for rule in RULES for problem in rule(settings)]

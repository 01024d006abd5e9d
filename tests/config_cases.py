"""Helpers for tests of stack config validation."""

from __future__ import annotations

import copy
from typing import Any

from config.errors import ConfigError, Problem
from config.loader import load_settings
from config.settings import Settings


def problems(raw: dict[str, Any], *, has_hf_token: bool = False) -> list[Problem]:
    """Every problem `load_settings` reports for a raw config ([] when it is valid)."""
    try:
        load_settings(raw, has_hf_token=has_hf_token)
    except ConfigError as error:
        return error.problems
    return []


def problem_at(raw: dict[str, Any], key: str, *, about: str = "", **options: Any) -> Problem:
    """The one problem reported at a config key whose reason mentions `about` (fails if there
    is none or several). `about` tells problems at one key apart: an unknown model name, say,
    is also a model without a known tool-call configuration."""
    found = [p for p in problems(raw, **options) if p.key == key and about in p.reason]
    assert len(found) == 1, f"expected one problem at {key}, got: {problems(raw, **options)}"
    return found[0]


def valid(raw: dict[str, Any], **options: Any) -> Settings:
    """The settings of a raw config that must be valid (fails with its problems if not)."""
    try:
        return load_settings(raw, **options)
    except ConfigError as error:
        raise AssertionError(str(error)) from None


def with_changes(raw: dict[str, Any], **sections: dict[str, Any]) -> dict[str, Any]:
    """A copy of a raw config with some keys of some sections replaced."""
    changed = copy.deepcopy(raw)
    for section, values in sections.items():
        if isinstance(values, dict) and isinstance(changed.get(section), dict):
            changed[section] = {**changed[section], **values}
        else:
            changed[section] = values
    return changed

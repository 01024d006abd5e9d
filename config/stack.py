"""Reads a stack's config from Pulumi: the only module of config/ that imports Pulumi."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

# Pulumi internals (no public API tells Pulumi's mock engine from a real one): pyproject.toml
# pins pulumi exactly, and tests/test_pulumi_internals.py names whichever moves.
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_monitor

from config.errors import ConfigError
from config.loader import load_stack
from config.placeholders import PlaceholderError, placeholder_problems
from config.project import NAMESPACE
from config.settings import Settings


@dataclass(frozen=True)
class StackConfig:
    settings: Settings
    hf_token: pulumi.Output[str] | None
    """Secret; only ever handed to the vLLM containers' environment."""


def _decode(value: Any) -> Any:
    """Pulumi passes structured values as JSON text and scalars as text. Text that is not
    JSON, or JSON too large for Python to read (over 4,300 digits), stays text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def engine_config() -> tuple[dict[str, Any], set[str]]:
    """Every key the engine passed to this program, whatever its namespace (values decoded,
    secrets left as given), and which of them it holds as secrets. The language host passes
    them all in the PULUMI_CONFIG environment (docs/reference/stack-config.md)."""
    everything = pulumi.runtime.get_config_env()
    secret_keys = {key for key in everything if pulumi.runtime.is_config_secret(key)}
    values = {
        key: value if key in secret_keys else _decode(value) for key, value in everything.items()
    }
    return values, secret_keys


def running_under_mocks() -> bool:
    """Whether the engine is Pulumi's mock monitor (unit tests, the offline plan). A real
    `pulumi preview` or `up` always talks to the CLI's engine: no setting turns this on."""
    return isinstance(get_monitor(), MockMonitor)


def load_stack_config() -> StackConfig:
    """The stack's validated settings and secrets. Invalid config, and in a real run the
    shipped example values, stop the program with one message and no traceback, before any
    resource is registered."""
    values, secret_keys = engine_config()
    try:
        settings = load_stack(values, secret_keys=secret_keys)
        if not running_under_mocks() and (examples := placeholder_problems(settings)):
            raise PlaceholderError(examples)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    hf_token = pulumi.Config(NAMESPACE).get_secret("hf_token") if settings.has_hf_token else None
    return StackConfig(settings=settings, hf_token=hf_token)

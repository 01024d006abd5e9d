"""Shared fixtures: the stack files, and the program run under mocks for each of them."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offline.harness import ProgramRun, run_stack_file
from offline.stackfile import namespace_values

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = {"dev": ROOT / "Pulumi.dev.yaml", "prod": ROOT / "Pulumi.prod.yaml"}
EXAMPLE_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP/3uSePucsLDiJ348m/ruKvaB5OxJKEWkLHM58cSmYn example"
)


def stack_raw_config(stack: str) -> dict[str, Any]:
    """A stack file's `metis-llm:*` values, namespace stripped: what `load_settings` takes."""
    return namespace_values(STACK_FILES[stack])


@pytest.fixture(autouse=True)
def event_loop_per_test() -> Iterator[None]:
    """A fresh event loop for each test: Pulumi's runtime awaits on the current loop, and a
    test that ran `asyncio.run` leaves none behind."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def minimal_raw() -> dict[str, Any]:
    """The smallest valid stack config: everything else comes from the defaults."""
    return {
        "router": {"allowed_cidrs": ["198.51.100.0/24"]},
        "access": {"ssh_public_key": EXAMPLE_KEY},
    }


@pytest.fixture
def dev_raw() -> dict[str, Any]:
    return copy.deepcopy(stack_raw_config("dev"))


@pytest.fixture
def prod_raw() -> dict[str, Any]:
    return copy.deepcopy(stack_raw_config("prod"))


_runs: dict[str, ProgramRun] = {}


def stack_run(stack: str) -> ProgramRun:
    """The program run under mocks with a stack file (once per test session)."""
    if stack not in _runs:
        _runs[stack] = run_stack_file(STACK_FILES[stack])
    return _runs[stack]


@pytest.fixture(params=sorted(STACK_FILES))
def stack_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def run(stack_name: str) -> ProgramRun:
    """The program's run for each stack file in turn."""
    return stack_run(stack_name)

"""Shared fixtures: the stack files, and the program run under mocks for each of them
(helpers a test imports live in tests/support/)."""

from __future__ import annotations

import asyncio
import copy
import gc
from collections.abc import Iterator
from typing import Any

import pytest

from offline.harness import ProgramRun
from tests.support.stacks import EXAMPLE_KEY, STACK_FILES, stack_raw_config, stack_run

GC_THRESHOLDS = (10_000, 20, 50)
"""CPython's defaults are (700, 10, 10). The program runs under mocks keep hundreds of
thousands of objects alive (the cached runs of each stack file, module fixtures), and every
full collection walks them all: with the defaults, a third of the core tier's time went to
full collections (10 s of 34 s, measured with gc.callbacks). These thresholds collect the
young generations less often and the old one rarely: the core tier takes 25 s, its peak
memory grows from about 310 MB to 360 MB."""


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test over generated inputs (hypothesis's `@given`) is in the `fuzz` tier."""
    for item in items:
        if hasattr(getattr(item, "function", None), "hypothesis"):
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture(autouse=True)
def event_loop_per_test() -> Iterator[None]:
    """A fresh event loop for each test: Pulumi's runtime awaits on the current loop, and a
    test that ran `asyncio.run` leaves none behind."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    """moto, the AWS emulator, in server mode on loopback for the whole session: its endpoint
    URL. A test that needs an empty account resets it first (`tests.support.aws.reset`)."""
    from tests.support.aws import MotoServer  # moto takes 0.4 s to import: only when used

    with MotoServer() as server:
        yield server.endpoint


@pytest.fixture(autouse=True)
def clients_trust_the_test_router_ca(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End-to-end clients trust the test routers' CA the way Metis's do: SSL_CERT_FILE (this
    machine exports its own SSL_CERT_FILE and SSL_CERT_DIR, which would decide otherwise)."""
    if request.node.get_closest_marker("e2e") is None:
        return
    from testbed.certificates import loopback_certificates

    monkeypatch.setenv("SSL_CERT_FILE", str(loopback_certificates().ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


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


@pytest.fixture(params=sorted(STACK_FILES))
def stack_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def run(stack_name: str) -> ProgramRun:
    """The program's run for each stack file in turn."""
    return stack_run(stack_name)

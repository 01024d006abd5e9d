"""The harness cannot let a check on an unresolved output pass silently."""

import asyncio

import pulumi
import pytest

from offline.harness import resolve, run_under_mocks


def _resolved(value):
    future = asyncio.get_event_loop().create_future()
    future.set_result(value)
    return future


def test_resolve_refuses_an_output_that_never_became_known():
    unknown = pulumi.Output(set(), _resolved(None), _resolved(False))
    with pytest.raises(AssertionError, match="never ran"):
        resolve(unknown)


def test_resolve_returns_a_known_outputs_value_and_secretness():
    known = pulumi.Output(set(), _resolved("v"), _resolved(True), _resolved(True))
    resolved = resolve(known)
    assert (resolved.value, resolved.secret) == ("v", True)


def test_exports_of_one_run_do_not_leak_into_the_next():
    run_under_mocks(lambda: pulumi.export("leftover", 1))
    assert run_under_mocks(lambda: None).outputs == {}

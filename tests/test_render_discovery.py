"""The discovery record as a plain function: what ops reads, and its size with a real CA."""

from __future__ import annotations

import json

import pytest

from renderers.discovery import STANDARD_TIER_BYTES, render_discovery, tier
from testbed.certificates import loopback_certificates
from tests.config_cases import valid
from tests.support.stacks import STACK_FILES, stack_raw_config

URL = "https://203.0.113.7:8888/v1"


@pytest.fixture(scope="module")
def ca() -> str:
    """A CA certificate made as pulumi-tls makes the stack's (testbed/certificates.py)."""
    return loopback_certificates().ca_file.read_text()


@pytest.mark.parametrize("stack", sorted(STACK_FILES))
def test_with_a_real_ca_certificate_the_record_still_fits_a_standard_parameter(stack, ca):
    record = render_discovery(valid(stack_raw_config(stack)), stack, URL, ca)

    assert len(record.encode()) <= STANDARD_TIER_BYTES
    assert tier(record) == "Standard"


def test_the_record_holds_the_ca_as_given(ca):
    record = json.loads(render_discovery(valid(stack_raw_config("dev")), "dev", URL, ca))

    assert record["router_ca_certificate"] == ca


def test_an_empty_ca_is_recorded_as_none():
    record = json.loads(render_discovery(valid(stack_raw_config("dev")), "dev", URL, ""))

    assert record["router_ca_certificate"] is None


def test_a_record_over_4_kb_takes_the_advanced_tier():
    assert tier("x" * (STANDARD_TIER_BYTES + 1)) == "Advanced"

"""When a list of CIDRs opens a port to the internet: judged by the address space it covers,
with one definition (`config.exposure`) that the stack config's rules, the offline plan's
warning and the policy pack all apply, and agree on."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.exposure import opens_to_internet
from offline.plan import public_router_warning
from policy.guardrails.network import INGRESS_RULE, NO_WORLD_INGRESS
from tests.config_cases import problems, valid, with_changes
from tests.policy_cases import stack_violations

LIST_KEY = "metis-llm:router.allowed_cidrs"
OPENS = ("opens the port to", "together these blocks open the port to")


def config_refuses(raw: dict[str, Any], cidrs: list[str]) -> bool:
    """Whether the config refuses the router's CIDRs for opening it to the internet."""
    router = {"allowed_cidrs": cidrs}
    return any(
        p.key.startswith(LIST_KEY) and p.reason.startswith(OPENS)
        for p in problems(with_changes(raw, router=router))
    )


def plan_warns(raw: dict[str, Any], cidrs: list[str]) -> bool:
    settings = valid(with_changes(raw, router={"allowed_cidrs": cidrs, "allow_public": True}))
    return public_router_warning(settings) is not None


def pack_refuses(cidrs: list[str], port: int = 8888) -> bool:
    """Whether the pack refuses the router rules the program registers for the CIDRs."""
    rules = [
        (
            INGRESS_RULE,
            f"router-{index}",
            {
                "cidrIpv6" if ":" in cidr else "cidrIpv4": cidr,
                "ipProtocol": "tcp",
                "fromPort": float(port),
                "toPort": float(port),
            },
        )
        for index, cidr in enumerate(cidrs)
    ]
    return bool(stack_violations(NO_WORLD_INGRESS, rules))


def judged_everywhere(raw: dict[str, Any], cidrs: list[str]) -> set[bool]:
    return {config_refuses(raw, cidrs), plan_warns(raw, cidrs), pack_refuses(cidrs)}


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/0"],
        ["::/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["2000::/4", "3000::/4"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        ["0.0.0.0/1"],
        ["16.0.0.0/7"],
        ["16.0.0.0/8", "17.0.0.0/8"],
        ["2a00::/12"],
    ],
)
def test_lists_covering_the_internet_are_refused_and_announced_everywhere(minimal_raw, cidrs):
    assert judged_everywhere(minimal_raw, cidrs) == {True}


@pytest.mark.parametrize(
    "cidrs",
    [
        ["198.51.100.0/24"],
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
        ["17.0.0.0/8"],
        ["2001:db8::/32", "fc00::/7"],
        ["2a00::/16"],
    ],
)
def test_private_ranges_and_one_organisations_block_pass_everywhere(minimal_raw, cidrs):
    assert judged_everywhere(minimal_raw, cidrs) == {False}


def test_a_block_covering_the_internet_is_reported_at_its_index(minimal_raw):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["198.51.100.0/24", "0.0.0.0/1"]})
    (problem,) = problems(raw)
    assert problem.key == f"{LIST_KEY}[1]"
    assert problem.reason.startswith("opens the port to a large part of the internet")


def test_blocks_covering_the_internet_only_together_are_reported_at_the_list(minimal_raw):
    cidrs = ["16.0.0.0/8", "198.51.100.0/24", "17.0.0.0/8"]
    (problem,) = problems(with_changes(minimal_raw, router={"allowed_cidrs": cidrs}))
    assert (problem.key, problem.value) == (LIST_KEY, ["16.0.0.0/8", "17.0.0.0/8"])
    assert problem.reason.startswith("together these blocks open the port to a large part")
    assert "allow_public" in problem.fix


def test_ssh_is_never_opened_to_a_union_covering_the_internet(minimal_raw):
    access = {"mode": "ssh", "admin_cidrs": ["16.0.0.0/8", "17.0.0.0/8"]}
    raw = with_changes(minimal_raw, router={"allow_public": True}, access=access)
    assert "metis-llm:access.admin_cidrs" in {p.key for p in problems(raw)}


# Properties

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def network(version: int, address: int, prefix: int) -> str:
    kind = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    return kind((address, prefix), strict=False).with_prefixlen


blocks = st.one_of(
    st.builds(network, st.just(4), st.integers(0, 2**32 - 1), st.integers(0, 32)),
    st.builds(network, st.just(6), st.integers(0, 2**128 - 1), st.integers(0, 128)),
    st.builds(network, st.just(6), st.integers(2**125, 2**126 - 1), st.integers(3, 20)),
)
"""Any block, and IPv6 blocks inside the public 2000::/3."""


@FUZZ
@given(cidrs=st.lists(blocks, min_size=1, max_size=6, unique=True))
def test_the_config_the_plan_and_the_pack_agree_on_any_list(minimal_raw, cidrs):
    assert judged_everywhere(minimal_raw, cidrs) == {opens_to_internet(cidrs)}


@st.composite
def partitions(draw: st.DrawFn, version: int) -> list[str]:
    """The whole address space of a version cut into blocks at random."""
    bits = 32 if version == 4 else 128
    pending, done = [(0, 0)], []
    while pending:
        address, prefix = pending.pop()
        if prefix < 12 and len(done) + len(pending) < 12 and draw(st.booleans()):
            half = 1 << (bits - prefix - 1)
            pending += [(address, prefix + 1), (address + half, prefix + 1)]
        else:
            done.append(network(version, address, prefix))
    return done


@FUZZ
@given(cidrs=st.one_of(partitions(4), partitions(6)), data=st.data())
def test_the_whole_space_cut_into_any_blocks_is_refused_everywhere(minimal_raw, cidrs, data):
    cidrs = data.draw(st.permutations(cidrs))
    assert judged_everywhere(minimal_raw, cidrs) == {True}


@FUZZ
@given(
    block=st.one_of(
        st.builds(network, st.just(4), st.integers(0, 2**32 - 1), st.integers(8, 32)),
        st.builds(network, st.just(6), st.integers(0, 2**128 - 1), st.integers(16, 128)),
    )
)
def test_one_block_no_wider_than_a_slash_8_or_a_slash_16_is_never_the_internet(minimal_raw, block):
    assert judged_everywhere(minimal_raw, [block]) == {False}

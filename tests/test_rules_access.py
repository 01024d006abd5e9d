"""Validation: who may call the router, and how the hosts are administered."""

import pytest

from tests.config_cases import problem_at, problems, valid, with_changes


@pytest.mark.parametrize("world", ["0.0.0.0/0", "::/0"])
def test_a_router_open_to_the_world_needs_allow_public(minimal_raw, world):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": [world]})
    assert "allow_public" in problem_at(raw, "metis-llm:router.allowed_cidrs[0]").fix


@pytest.mark.parametrize("world", ["0.0.0.0/0", "::/0"])
def test_a_router_open_to_the_world_with_allow_public_is_valid(minimal_raw, world):
    valid(with_changes(minimal_raw, router={"allowed_cidrs": [world], "allow_public": True}))


def test_a_malformed_router_cidr_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["198.51.100/24x"]})
    assert problem_at(raw, "metis-llm:router.allowed_cidrs[0]").reason == "not a CIDR"


def test_a_router_cidr_with_host_bits_names_the_block(minimal_raw):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["198.51.100.7/24"]})
    assert "198.51.100.0/24" in problem_at(raw, "metis-llm:router.allowed_cidrs[0]").fix


def test_ipv6_router_cidrs_are_valid(minimal_raw):
    valid(with_changes(minimal_raw, router={"allowed_cidrs": ["2001:db8::/32", "198.51.100.7/32"]}))


def test_an_empty_router_cidr_list_is_reported(minimal_raw):
    problem_at(
        with_changes(minimal_raw, router={"allowed_cidrs": []}), "metis-llm:router.allowed_cidrs"
    )


def test_ssh_mode_without_admin_cidrs_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, access={"mode": "ssh"})
    assert "mode: ssm" in problem_at(raw, "metis-llm:access.admin_cidrs").fix


def test_ssh_mode_never_opens_ssh_to_the_world(minimal_raw):
    raw = with_changes(minimal_raw, access={"mode": "ssh", "admin_cidrs": ["0.0.0.0/0"]})
    problem_at(raw, "metis-llm:access.admin_cidrs[0]")


def test_ssh_mode_with_admin_cidrs_and_a_key_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, access={"mode": "ssh", "admin_cidrs": ["198.51.100.7/32"]}))


def test_admin_cidrs_in_ssm_mode_are_reported_as_unused(minimal_raw):
    raw = with_changes(minimal_raw, access={"admin_cidrs": ["198.51.100.7/32"]})
    problem_at(raw, "metis-llm:access.admin_cidrs")


def test_a_missing_ssh_public_key_says_how_to_set_it(minimal_raw):
    del minimal_raw["access"]
    assert "id_ed25519.pub" in problem_at(minimal_raw, "metis-llm:access.ssh_public_key").fix


def test_a_text_that_is_no_public_key_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, access={"ssh_public_key": "my key"})
    assert problem_at(raw, "metis-llm:access.ssh_public_key").reason == "not an OpenSSH public key"


def test_a_private_key_is_refused_without_echoing_it(minimal_raw):
    private = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END"
    raw = with_changes(minimal_raw, access={"ssh_public_key": private})
    assert "PRIVATE key" in problem_at(raw, "metis-llm:access.ssh_public_key").reason
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU" not in str(problems(raw))

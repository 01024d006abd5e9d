"""Validation: who may call the router, and how the hosts are administered."""

import pytest

from tests.config_cases import problem_at, problems, valid, with_changes
from tests.support.stacks import EXAMPLE_KEY

RSA_KEY = (
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQCeZqb/voVpxn+GdOOGCCU0F2JZAO2/P6X+19tzGEqwQq3bg3gL"
    "QmUrVTEgvU6qMqdXP4c/teLGOGQjkzzThLhuqY4BcMQ1eRKbzIrsGBj+5CUD/O7Ptmc1H0nt/xuX9NMp"
    "MpfHGDcIUvZC+PJ+E81Db02uUzRX4R+bUUzrg4Iw59jSyYYZX+AqVyHOwP430yMNmYWpguh5vphSUtWd"
    "+xiSWOLjYvsUOXq3AFBl+GMlQWb0+HiN/6du705oVt/1ywPBpZn8ws8luCzhG0C9jwUh3+tbTX6LStQB"
    "X/8HRz3z//POEX1hK8bnOgFXSNL+/4Yu8vyJmJaDMPP0RMg9qY0N"
    " you@laptop"
)


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
    problem = problem_at(
        with_changes(minimal_raw, router={"allowed_cidrs": []}), "metis-llm:router.allowed_cidrs"
    )
    assert problem.reason == "nobody could call the router"
    assert problem.fix == "list the CIDRs Metis calls from, e.g. [203.0.113.7/32]"


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
    problem = problem_at(raw, "metis-llm:access.admin_cidrs")
    assert problem.reason == "only used in ssh mode; in ssm mode no port 22 is opened"
    assert problem.fix == "remove it, or set metis-llm:access.mode: ssh"


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


# What AWS would refuse later, refused at preview


@pytest.mark.parametrize(
    ("cidr", "reason", "written"),
    [
        ("198.51.100.7", "a bare address", "198.51.100.7/32"),
        ("2001:db8::1", "a bare address", "2001:db8::1/128"),
        ("198.51.100.0/255.255.255.0", "a netmask", "198.51.100.0/24"),
        ("198.51.100.0/0.0.0.255", "a netmask", "198.51.100.0/24"),
        ("2001:DB8::/32", "not written the canonical way", "2001:db8::/32"),
        ("2001:db8:0::/32", "not written the canonical way", "2001:db8::/32"),
        ("fe80::%eth0/64", "not a CIDR: AWS takes no zone index", "fe80::/64"),
    ],
)
def test_a_block_aws_would_take_differently_is_refused_with_its_canonical_form(
    minimal_raw, cidr, reason, written
):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["203.0.113.0/24", cidr]})
    problem = problem_at(raw, "metis-llm:router.allowed_cidrs[1]")
    assert problem.reason.startswith(reason)
    assert problem.fix == f"write {written}"


@pytest.mark.parametrize(
    "cidrs", [["198.51.100.0/24", "198.51.100.0/24"], ["2001:db8::/32", "2001:db8::/32"]]
)
def test_a_block_listed_twice_is_refused(minimal_raw, cidrs):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["203.0.113.0/24", *cidrs]})
    problem = problem_at(raw, "metis-llm:router.allowed_cidrs[2]")
    assert problem.reason == "the same block as metis-llm:router.allowed_cidrs[1]"


def test_two_spellings_of_one_admin_block_are_refused(minimal_raw):
    access = {"mode": "ssh", "admin_cidrs": ["2001:db8::/32", "2001:DB8::/32"]}
    raw = with_changes(minimal_raw, access=access)
    problem = problem_at(raw, "metis-llm:access.admin_cidrs[1]")
    assert problem.reason.startswith("not written the canonical way")
    assert problem.fix == "write 2001:db8::/32"


ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7"
    "opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg= me@host"
)
SECURITY_KEY = (
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIEX/dQ0v4127bEo8eeG1"
    "EV0ApO2lWbSAn6r8mnzfUc4PAAAABHNzaDo= me@host"
)


@pytest.mark.parametrize("key", [ECDSA, SECURITY_KEY])
def test_a_key_type_ec2_does_not_import_is_refused(minimal_raw, key):
    raw = with_changes(minimal_raw, access={"ssh_public_key": key})
    problem = problem_at(raw, "metis-llm:access.ssh_public_key")
    assert "EC2 imports only RSA and ED25519 keys" in problem.reason
    assert "ssh-keygen -t ed25519" in problem.fix


def test_a_key_whose_data_names_another_type_is_refused(minimal_raw):
    _, blob, comment = ECDSA.split(" ")
    raw = with_changes(minimal_raw, access={"ssh_public_key": f"ssh-ed25519 {blob} {comment}"})
    problem = problem_at(raw, "metis-llm:access.ssh_public_key")
    assert problem.reason == "the key's data is damaged or is not an ssh-ed25519 key"


def test_a_key_with_damaged_data_is_refused(minimal_raw):
    damaged = EXAMPLE_KEY.replace("AAAAC3Nza", "AAAAC3Nzb")
    raw = with_changes(minimal_raw, access={"ssh_public_key": damaged})
    problem = problem_at(raw, "metis-llm:access.ssh_public_key")
    assert problem.reason == "the key's data is damaged or is not an ssh-ed25519 key"
    assert problem.fix == "copy the one line of your .pub file again"


def test_an_rsa_key_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, access={"ssh_public_key": RSA_KEY}))


@pytest.mark.parametrize(
    "identity",
    [
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END",
        "-----BEGIN RSA PRIVATE KEY-----",
    ],
)
def test_a_private_key_as_the_identity_file_is_refused_without_echoing_it(minimal_raw, identity):
    raw = with_changes(minimal_raw, access={"ssh_identity_file": identity})
    problem = problem_at(raw, "metis-llm:access.ssh_identity_file")
    assert "a private key itself" in problem.reason
    assert "b3BlbnNzaC1" not in str(problems(raw))


def test_a_path_as_the_identity_file_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, access={"ssh_identity_file": "~/.ssh/id_ed25519"}))


DOMAIN = {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "name": "llm.example.com"}


def test_https_is_the_default_transport(minimal_raw):
    assert valid(minimal_raw).router.tls_mode == "self-signed"


def test_a_domain_is_valid_with_a_zone_id_and_a_name(minimal_raw):
    assert valid(with_changes(minimal_raw, router={"domain": DOMAIN})).router.tls_mode == "domain"


def test_plain_http_with_a_domain_is_one_clear_problem(minimal_raw):
    raw = with_changes(minimal_raw, router={"domain": DOMAIN, "plain_http": True})
    problem = problem_at(raw, "metis-llm:router.plain_http")
    assert "remove metis-llm:router.plain_http" in problem.fix


def test_a_hosted_zone_id_that_is_no_zone_id_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, router={"domain": {**DOMAIN, "hosted_zone_id": "example.com"}})
    assert problem_at(raw, "metis-llm:router.domain.hosted_zone_id")


def test_a_domain_name_with_a_trailing_dot_or_capitals_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, router={"domain": {**DOMAIN, "name": "LLM.example.com."}})
    assert problem_at(raw, "metis-llm:router.domain.name")

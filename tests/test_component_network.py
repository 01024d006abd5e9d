"""Network: one security group that lets in the router's callers and nothing else."""

from components.network import Network, NetworkArgs
from tests.component_cases import build
from tests.config_cases import valid, with_changes

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def ingress_of(settings) -> list[dict]:
    run = build(lambda: Network("net", NetworkArgs(settings=settings, stack="test")))
    return [rule.inputs for rule in run.of_type(INGRESS)]


def test_router_port_is_open_to_each_allowed_cidr_only(minimal_raw):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["198.51.100.0/24", "2001:db8::/32"]})
    rules = [r for r in ingress_of(valid(raw)) if r["fromPort"] == 8888]
    assert {(r.get("cidrIpv4"), r.get("cidrIpv6")) for r in rules} == {
        ("198.51.100.0/24", None),
        (None, "2001:db8::/32"),
    }
    assert all(r["toPort"] == 8888 for r in rules)


def test_vllm_ports_are_open_only_to_the_stacks_own_group(minimal_raw):
    (rule,) = [r for r in ingress_of(valid(minimal_raw)) if r["fromPort"] == 8000]
    assert (rule["toPort"], rule["referencedSecurityGroupId"]) == (8001, rule["securityGroupId"])
    assert "cidrIpv4" not in rule


def test_ssm_mode_opens_no_ssh_port(minimal_raw):
    assert all(r["fromPort"] != 22 for r in ingress_of(valid(minimal_raw)))


def test_ssh_mode_opens_ssh_to_the_admin_cidrs_only(minimal_raw):
    raw = with_changes(minimal_raw, access={"mode": "ssh", "admin_cidrs": ["198.51.100.7/32"]})
    ssh = [r for r in ingress_of(valid(raw)) if r["fromPort"] == 22]
    assert [r["cidrIpv4"] for r in ssh] == ["198.51.100.7/32"]


def test_nothing_else_is_let_in(minimal_raw):
    ports = {(r["fromPort"], r["toPort"]) for r in ingress_of(valid(minimal_raw))}
    assert ports == {(8888, 8888), (8000, 8001)}


def test_the_group_lives_in_the_default_vpc_unless_one_is_named(minimal_raw):
    run = build(lambda: Network("net", NetworkArgs(settings=valid(minimal_raw), stack="test")))
    (group,) = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-0123456789abcdef0"


def test_a_named_vpc_is_used(minimal_raw):
    raw = with_changes(minimal_raw, network={"vpc_id": "vpc-0aaaaaaaaaaaaaaaa"})
    run = build(lambda: Network("net", NetworkArgs(settings=valid(raw), stack="test")))
    (group,) = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-0aaaaaaaaaaaaaaaa"

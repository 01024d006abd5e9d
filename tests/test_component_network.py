"""Network: the hosts' security group (vLLM and the exporters within the group, SSH in ssh
mode) and the router's (its port from its callers), and nothing else."""

from components.network import Network, NetworkArgs
from tests.component_cases import build
from tests.config_cases import valid, with_changes

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"


def ingress_of(settings) -> list[dict]:
    run = build(lambda: Network("net", NetworkArgs(settings=settings, stack="test")))
    return [rule.inputs for rule in run.of_type(INGRESS)]


def group_ids(settings) -> dict[str, str]:
    """The id of each security group by resource name."""
    run = build(lambda: Network("net", NetworkArgs(settings=settings, stack="test")))
    return {group.name: group.resource_id for group in run.of_type(GROUP)}


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
    assert ports == {(8888, 8888), (8000, 8001), (9100, 9100), (9400, 9400)}


def test_the_exporters_are_open_only_to_the_stacks_own_group(minimal_raw):
    rules = [r for r in ingress_of(valid(minimal_raw)) if r["fromPort"] in (9100, 9400)]

    assert len(rules) == 2
    assert all(r["referencedSecurityGroupId"] == r["securityGroupId"] for r in rules)
    assert all("cidrIpv4" not in r and "cidrIpv6" not in r for r in rules)


def test_no_rule_names_grafana_or_prometheus(minimal_raw):
    ports = {r["fromPort"] for r in ingress_of(valid(minimal_raw))}

    assert not ports & {3000, 9090}


def test_without_monitoring_no_exporter_port_is_opened(minimal_raw):
    raw = with_changes(minimal_raw, monitoring={"enabled": False})
    ports = {(r["fromPort"], r["toPort"]) for r in ingress_of(valid(raw))}

    assert ports == {(8888, 8888), (8000, 8001)}


def test_the_groups_live_in_the_default_vpc_unless_one_is_named(minimal_raw):
    run = build(lambda: Network("net", NetworkArgs(settings=valid(minimal_raw), stack="test")))
    groups = run.of_type(GROUP)
    assert {group.inputs["vpcId"] for group in groups} == {"vpc-0123456789abcdef0"}


def test_a_named_vpc_is_used(minimal_raw):
    raw = with_changes(minimal_raw, network={"vpc_id": "vpc-0aaaaaaaaaaaaaaaa"})
    run = build(lambda: Network("net", NetworkArgs(settings=valid(raw), stack="test")))
    assert {group.inputs["vpcId"] for group in run.of_type(GROUP)} == {"vpc-0aaaaaaaaaaaaaaaa"}


def test_the_router_port_is_opened_in_the_router_group_only(minimal_raw):
    settings = valid(minimal_raw)
    groups = group_ids(settings)
    router_rules = [r for r in ingress_of(settings) if r["fromPort"] == 8888]
    assert router_rules
    assert {r["securityGroupId"] for r in router_rules} == {groups["net-router-sg"]}


def test_the_hosts_group_opens_only_vllm_and_exporters_within_itself_and_ssh_in_ssh_mode(
    minimal_raw,
):
    raw = with_changes(minimal_raw, access={"mode": "ssh", "admin_cidrs": ["198.51.100.7/32"]})
    settings = valid(raw)
    hosts_group = group_ids(settings)["net-sg"]
    ports = {
        (r["fromPort"], r["toPort"])
        for r in ingress_of(settings)
        if r["securityGroupId"] == hosts_group
    }
    assert ports == {(8000, 8001), (9100, 9100), (9400, 9400), (22, 22)}


def test_blocks_differing_only_in_where_the_zeros_are_get_rules_of_their_own(minimal_raw):
    router = {"allowed_cidrs": ["2001:db8::1/128", "2001:db8:1::/128"]}
    settings = valid(with_changes(minimal_raw, router=router))
    run = build(lambda: Network("net", NetworkArgs(settings=settings, stack="test")))
    names = [rule.name for rule in run.of_type(INGRESS) if "router" in rule.name]
    assert len(set(names)) == len(names) == 2

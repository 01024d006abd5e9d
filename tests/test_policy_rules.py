"""Each policy of the pack on its own: resources as the engine hands them to `validate`
(camelCase inputs, float numbers, read-only proxies that raise on unknown values)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from config.images import TAG_SCHEMES, ImageRef
from policy.guardrails import POLICIES
from policy.guardrails.containers import (
    ACTIVITY_PUBLISHER,
    BACKENDS_PRIVATE,
    CONTAINER,
    IMAGES_PINNED,
    REMOTE_IMAGE,
)
from policy.guardrails.instances import (
    EBS_VOLUME,
    ENCRYPTED_VOLUMES,
    INSTANCE,
    INSTANCES,
    OWNER_TAGGED,
    REQUIRE_IMDSV2,
)
from policy.guardrails.network import (
    INGRESS_RULE,
    MONITORING_PORTS_PRIVATE,
    NO_WORLD_INGRESS,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    VLLM_PORTS_PRIVATE,
)
from policy.guardrails.pinning import is_pinned
from policy.guardrails.scheduler import ATTACHMENT, ROLE, ROLE_POLICY, SCHEDULER_ROLES_SCOPED
from renderers.idle_stop import PUBLISHER_CONTAINER
from tests.policy_cases import stack_violations, urn_of, violations

DIGEST = "sha256:" + "0123456789abcdef" * 4
WORLD = ["0.0.0.0/0", "::/0"]


def only(messages: list[str]) -> str:
    assert len(messages) == 1, messages
    return messages[0]


# The pack


def test_every_policy_is_mandatory_with_a_remediation():
    for policy in POLICIES:
        assert policy.enforcement_level == EnforcementLevel.MANDATORY, policy.name
        assert policy.remediation_steps, policy.name


def test_policy_names_are_unique():
    assert len({policy.name for policy in POLICIES}) == len(POLICIES)


def test_a_violation_names_the_resource_and_ends_with_the_fix():
    message = only(violations(REQUIRE_IMDSV2, INSTANCE, {}))
    assert message.startswith("res ")
    assert message.endswith(f"Fix: {REQUIRE_IMDSV2.remediation_steps}")


def test_policies_ignore_resources_of_other_types():
    for policy in POLICIES:
        assert violations(policy, "aws:s3/bucket:Bucket", {"cidrIpv4": "0.0.0.0/0"}) == []


# no-world-ingress


def ingress_rule(cidr: str, protocol: str = "tcp", ports: tuple[int, int] = (22, 22)) -> dict:
    key = "cidrIpv6" if ":" in cidr else "cidrIpv4"
    return {key: cidr, "ipProtocol": protocol, "fromPort": float(ports[0]), "toPort": ports[1]}


def group_rule(source: str, ports: tuple[int, int], group: str = "sg-1") -> dict:
    """An ingress rule of `group` letting tcp `ports` in from the security group `source`."""
    return {"referencedSecurityGroupId": source, "securityGroupId": group, "ipProtocol": "tcp",
            "fromPort": float(ports[0]), "toPort": float(ports[1])}  # fmt: skip


@pytest.mark.parametrize("world", WORLD)
def test_an_ingress_rule_from_the_whole_internet_is_refused(world):
    message = only(violations(NO_WORLD_INGRESS, INGRESS_RULE, ingress_rule(world)))
    assert f"lets tcp 22 in from {world}, the whole internet" in message


def test_an_ingress_rule_from_a_narrow_cidr_passes():
    assert violations(NO_WORLD_INGRESS, INGRESS_RULE, ingress_rule("198.51.100.0/24")) == []


def test_an_ingress_rule_from_the_stacks_own_group_passes():
    rule = {"referencedSecurityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 8000.0}
    assert violations(NO_WORLD_INGRESS, INGRESS_RULE, rule) == []


def test_a_world_block_with_host_bits_is_still_the_whole_internet():
    assert violations(NO_WORLD_INGRESS, INGRESS_RULE, ingress_rule("10.1.2.3/0"))


@pytest.mark.parametrize("world", WORLD)
def test_the_router_port_may_be_open_to_the_world_when_the_pack_allows_it(world):
    rule = ingress_rule(world, ports=(8888, 8888))
    config = {"allowPublicRouterPort": 8888.0}
    assert violations(NO_WORLD_INGRESS, INGRESS_RULE, rule, config=config) == []


def test_the_router_port_is_refused_when_the_pack_does_not_allow_it():
    rule = ingress_rule("0.0.0.0/0", ports=(8888, 8888))
    assert violations(NO_WORLD_INGRESS, INGRESS_RULE, rule)


@pytest.mark.parametrize(
    ("protocol", "ports", "opened"),
    [
        ("tcp", (8000, 8001), "tcp 8000-8001"),
        ("tcp", (8000, 9000), "tcp 8000-9000"),
        ("udp", (8888, 8888), "udp 8888"),
        ("-1", (0, 0), "all traffic"),
    ],
)
def test_only_tcp_on_the_allowed_router_port_may_be_open_to_the_world(protocol, ports, opened):
    rule = ingress_rule("0.0.0.0/0", protocol, ports)
    message = only(
        violations(NO_WORLD_INGRESS, INGRESS_RULE, rule, config={"allowPublicRouterPort": 8888})
    )
    assert f"lets {opened} in from 0.0.0.0/0" in message
    assert "only tcp 8888, the router port, may be" in message


def test_inline_security_group_ingress_from_the_world_is_refused():
    group = {
        "ingress": [
            {"cidrBlocks": ["198.51.100.0/24"], "protocol": "tcp", "fromPort": 22, "toPort": 22},
            {"ipv6CidrBlocks": ["::/0"], "protocol": "tcp", "fromPort": 22.0, "toPort": 22.0},
        ]
    }
    assert "from ::/0" in only(violations(NO_WORLD_INGRESS, SECURITY_GROUP, group))


def test_inline_security_group_egress_to_the_world_passes():
    group = {"egress": [{"cidrBlocks": ["0.0.0.0/0"], "protocol": "-1", "fromPort": 0}]}
    assert violations(NO_WORLD_INGRESS, SECURITY_GROUP, group) == []


def test_a_security_group_rule_letting_the_world_in_is_refused():
    rule = {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"], "protocol": "all", "fromPort": 0}
    assert "lets all traffic in" in only(violations(NO_WORLD_INGRESS, SECURITY_GROUP_RULE, rule))


def test_a_security_group_rule_letting_out_to_the_world_passes():
    rule = {"type": "egress", "cidrBlocks": ["0.0.0.0/0"], "protocol": "-1", "fromPort": 0}
    assert violations(NO_WORLD_INGRESS, SECURITY_GROUP_RULE, rule) == []


def test_an_egress_rule_resource_to_the_world_passes():
    rule = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "-1"}
    egress = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
    assert violations(NO_WORLD_INGRESS, egress, rule) == []


def rules_from(*cidrs: str, protocol: str = "tcp", ports: tuple[int, int] = (8888, 8888)):
    """One ingress rule resource per CIDR, as the program registers them."""
    return [
        (INGRESS_RULE, f"rule-{i}", ingress_rule(c, protocol, ports)) for i, c in enumerate(cidrs)
    ]


@pytest.mark.parametrize(
    "cidrs",
    [
        ("0.0.0.0/1", "128.0.0.0/1"),
        ("2000::/4", "3000::/4"),
        ("0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"),
    ],
)
def test_rules_that_together_cover_the_internet_are_each_refused(cidrs):
    found = stack_violations(NO_WORLD_INGRESS, rules_from(*cidrs))
    assert {urn.rsplit("::", 1)[1] for urn, _ in found} == {f"rule-{i}" for i in range(len(cidrs))}
    assert all("that is the whole internet" in message for _, message in found)


def test_one_rule_covering_more_than_a_slash_8_of_public_addresses_is_refused():
    (found,) = stack_violations(NO_WORLD_INGRESS, rules_from("16.0.0.0/7"))
    assert "a large part of the internet" in found[1]


@pytest.mark.parametrize(
    "cidrs",
    [("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), ("17.0.0.0/8",), ("2001:db8::/32",)],
)
def test_private_ranges_or_one_organisations_block_pass(cidrs):
    assert stack_violations(NO_WORLD_INGRESS, rules_from(*cidrs)) == []


def test_halves_of_the_internet_on_different_ports_are_not_combined():
    rules = [
        *rules_from("0.0.0.0/1", ports=(443, 443)),
        (INGRESS_RULE, "other", ingress_rule("128.0.0.0/1", ports=(22, 22))),
    ]
    found = stack_violations(NO_WORLD_INGRESS, rules)
    assert all("a large part of the internet" in message for _, message in found)
    assert "the whole internet" not in str(found)


def test_a_rule_for_all_traffic_combines_with_a_port_rule():
    rules = [
        (INGRESS_RULE, "all", ingress_rule("16.0.0.0/8", "-1", (0, 0))),
        (INGRESS_RULE, "tcp", ingress_rule("17.0.0.0/8", "tcp", (22, 22))),
    ]
    found = dict(stack_violations(NO_WORLD_INGRESS, rules))
    assert "with tcp that is a large part of the internet" in found[urn_of(INGRESS_RULE, "all")]
    assert "with all that is a large part of the internet" in found[urn_of(INGRESS_RULE, "tcp")]


def test_the_allowed_router_port_may_be_opened_by_several_rules_together():
    rules = rules_from("0.0.0.0/1", "128.0.0.0/1")
    assert stack_violations(NO_WORLD_INGRESS, rules, config={"allowPublicRouterPort": 8888}) == []


# vllm-ports-private


@pytest.mark.parametrize(
    ("protocol", "ports"),
    [
        ("tcp", (8000, 8000)),
        ("tcp", (8001, 8001)),
        ("tcp", (7000, 9000)),
        ("-1", (0, 0)),
        ("6", (8000, 8001)),
    ],
)
def test_a_rule_reaching_a_vllm_port_from_a_cidr_is_refused(protocol, ports):
    rule = ingress_rule("198.51.100.0/24", protocol, ports)
    message = only(violations(VLLM_PORTS_PRIVATE, INGRESS_RULE, rule))
    assert "from outside the stack's own group" in message


def test_a_rule_reaching_the_vllm_ports_from_its_own_group_passes():
    rule = group_rule("sg-1", (8000, 8001))
    assert violations(VLLM_PORTS_PRIVATE, INGRESS_RULE, rule) == []


def test_a_rule_reaching_the_vllm_ports_from_another_group_is_refused():
    rule = group_rule("sg-2", (8000, 8001))
    assert "from security group sg-2" in only(violations(VLLM_PORTS_PRIVATE, INGRESS_RULE, rule))


def test_the_router_port_elsewhere_passes():
    assert (
        violations(VLLM_PORTS_PRIVATE, INGRESS_RULE, ingress_rule("0.0.0.0/0", ports=(8888, 8888)))
        == []
    )


def test_udp_to_a_vllm_port_number_passes():
    assert (
        violations(
            VLLM_PORTS_PRIVATE, INGRESS_RULE, ingress_rule("198.51.100.0/24", "udp", (8000, 8000))
        )
        == []
    )


def test_inline_and_security_group_rules_reaching_a_vllm_port_are_refused():
    from_cidr = {"protocol": "tcp", "fromPort": 8000, "toPort": 8000, "cidrBlocks": ["10.0.0.0/8"]}
    from_itself = {"protocol": "tcp", "fromPort": 8001, "toPort": 8001, "self": True}
    group = {"ingress": [from_cidr, from_itself]}
    assert len(violations(VLLM_PORTS_PRIVATE, SECURITY_GROUP, group)) == 1
    rule = {"type": "ingress", "protocol": "tcp", "fromPort": 8000, "toPort": 8000, "self": True}
    assert violations(VLLM_PORTS_PRIVATE, SECURITY_GROUP_RULE, rule) == []
    rule = {**rule, "self": False, "prefixListIds": ["pl-1"]}
    assert violations(VLLM_PORTS_PRIVATE, SECURITY_GROUP_RULE, rule)


def test_the_group_ids_unknown_during_preview_are_left_to_the_update():
    unknown = UNKNOWN_STRING_VALUE
    rule = group_rule(unknown, (8000, 8001), group=unknown)
    with pytest.raises(UnknownValueError):
        violations(VLLM_PORTS_PRIVATE, INGRESS_RULE, rule)


# monitoring-ports-private


@pytest.mark.parametrize(
    ("port", "name"),
    [(3000, "Grafana"), (9090, "Prometheus"), (9100, "node-exporter"), (9400, "dcgm-exporter")],
)
def test_a_rule_reaching_a_monitoring_port_from_a_cidr_is_refused(port, name):
    rule = ingress_rule("198.51.100.0/24", "tcp", (port, port))

    message = only(violations(MONITORING_PORTS_PRIVATE, INGRESS_RULE, rule))
    assert f"the monitoring port {port} ({name}) from outside the stack's own group" in message


def test_a_wide_range_from_a_cidr_names_every_monitoring_port_it_reaches():
    rule = ingress_rule("10.0.0.0/8", "tcp", (1024, 65535))

    message = only(violations(MONITORING_PORTS_PRIVATE, INGRESS_RULE, rule))
    assert "ports 3000, 9090, 9100, 9400" in message


def test_the_exporters_open_to_the_stacks_own_group_pass():
    rule = group_rule("sg-1", (9100, 9100))
    assert violations(MONITORING_PORTS_PRIVATE, INGRESS_RULE, rule) == []


def test_a_monitoring_port_from_another_group_is_refused():
    rule = group_rule("sg-2", (3000, 3000))
    assert "from security group sg-2" in only(
        violations(MONITORING_PORTS_PRIVATE, INGRESS_RULE, rule)
    )


def test_the_router_port_is_no_monitoring_port():
    rule = ingress_rule("198.51.100.0/24", "tcp", (8888, 8888))
    assert violations(MONITORING_PORTS_PRIVATE, INGRESS_RULE, rule) == []


# instances-require-imdsv2


@pytest.mark.parametrize("instance_type", sorted(INSTANCES))
def test_an_instance_allowing_imdsv1_is_refused(instance_type):
    props = {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "optional"}}
    assert "httpTokens optional" in only(violations(REQUIRE_IMDSV2, instance_type, props))


def test_an_instance_without_metadata_options_is_refused():
    assert "httpTokens unset" in only(violations(REQUIRE_IMDSV2, INSTANCE, {}))


def test_an_instance_requiring_imdsv2_passes():
    props = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1.0}}
    assert violations(REQUIRE_IMDSV2, INSTANCE, props) == []


# volumes-encrypted


def encrypted_instance(**changes: Any) -> dict[str, Any]:
    return {
        "rootBlockDevice": {"encrypted": True, "volumeSize": 150.0},
        "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}],
        **changes,
    }


@pytest.mark.parametrize("instance_type", sorted(INSTANCES))
def test_an_instance_with_encrypted_volumes_passes(instance_type):
    assert violations(ENCRYPTED_VOLUMES, instance_type, encrypted_instance()) == []


def test_an_unencrypted_root_volume_is_refused():
    props = encrypted_instance(rootBlockDevice={"encrypted": False, "volumeSize": 150.0})
    assert "root volume" in only(violations(ENCRYPTED_VOLUMES, INSTANCE, props))


def test_an_undeclared_root_volume_is_refused():
    props = encrypted_instance()
    del props["rootBlockDevice"]
    assert "root volume" in only(violations(ENCRYPTED_VOLUMES, INSTANCE, props))


def test_an_unencrypted_data_volume_is_refused_by_device_name():
    props = encrypted_instance(ebsBlockDevices=[{"deviceName": "/dev/sdg", "volumeSize": 10.0}])
    assert "data volume /dev/sdg" in only(violations(ENCRYPTED_VOLUMES, INSTANCE, props))


def test_an_unencrypted_ebs_volume_is_refused():
    assert violations(ENCRYPTED_VOLUMES, EBS_VOLUME, {"size": 100.0, "encrypted": False})


def test_an_encrypted_ebs_volume_passes():
    assert violations(ENCRYPTED_VOLUMES, EBS_VOLUME, {"size": 100.0, "encrypted": True}) == []


# instances-tagged


def tagged(**tags: str) -> dict[str, Any]:
    return {"tags": {"role": "gpu-host", **tags}}


def test_an_instance_with_its_project_and_stack_tags_passes():
    props = tagged(project="metis-llm", stack="prod")
    assert violations(OWNER_TAGGED, INSTANCE, props, stack="prod") == []


@pytest.mark.parametrize("missing", ["project", "stack"])
def test_an_instance_without_an_owner_tag_is_refused(missing):
    tags = {"project": "metis-llm", "stack": "dev"}
    del tags[missing]
    assert f"has no {missing} tag" in only(violations(OWNER_TAGGED, INSTANCE, tagged(**tags)))


def test_an_untagged_instance_is_refused_for_both_tags():
    assert len(violations(OWNER_TAGGED, INSTANCE, {})) == 2


def test_an_instance_tagged_for_another_stack_is_refused():
    props = tagged(project="metis-llm", stack="dev")
    message = only(violations(OWNER_TAGGED, INSTANCE, props, stack="prod"))
    assert "is tagged stack=dev but belongs to stack prod" in message


# images-pinned

PINNED = [
    "vllm/vllm-openai:v0.32.0",
    "ghcr.io/berriai/litellm:v1.108.7",
    "ghcr.io/berriai/litellm:main-v1.108.7-stable",
    f"vllm/vllm-openai@{DIGEST}",
    f"ghcr.io/berriai/litellm:v1.108.7@{DIGEST}",
    "localhost:5000/vllm/vllm-openai:v0.32.0",
]
ROLLING = [
    "vllm/vllm-openai",
    "vllm/vllm-openai:latest",
    "vllm/vllm-openai:nightly",
    "ghcr.io/berriai/litellm:main-stable",
    "localhost:5000/vllm/vllm-openai",
]


@pytest.mark.parametrize("image", PINNED)
def test_a_remote_image_pinned_to_a_version_or_digest_passes(image):
    assert violations(IMAGES_PINNED, REMOTE_IMAGE, {"name": image, "keepLocally": True}) == []


@pytest.mark.parametrize("image", ROLLING)
def test_a_remote_image_with_a_rolling_or_missing_tag_is_refused(image):
    message = only(violations(IMAGES_PINNED, REMOTE_IMAGE, {"name": image}))
    assert f"has name {image}: a rolling or missing tag" in message


def test_a_container_running_a_pulled_image_id_passes():
    assert violations(IMAGES_PINNED, CONTAINER, {"name": "vllm-chat", "image": DIGEST}) == []


def test_a_container_running_a_rolling_tag_is_refused():
    props = {"name": "vllm-chat", "image": "vllm/vllm-openai:latest"}
    assert "has image vllm/vllm-openai:latest" in only(violations(IMAGES_PINNED, CONTAINER, props))


def test_a_container_image_unknown_during_preview_is_left_to_the_update():
    with pytest.raises(UnknownValueError):
        violations(IMAGES_PINNED, CONTAINER, {"name": "vllm", "image": UNKNOWN_STRING_VALUE})


@pytest.mark.parametrize("image", PINNED + ROLLING)
def test_the_pack_pins_images_like_the_stack_config(image):
    reference = ImageRef.parse(image)
    assert reference is not None
    assert is_pinned(image) == any(reference.pinned(scheme) for scheme in TAG_SCHEMES)


# backends-not-published


def vllm_container(**changes: Any) -> dict[str, Any]:
    port = {"internal": 8000.0, "external": 8000.0, "ip": "10.0.1.2"}
    return {"name": "vllm-chat", "image": DIGEST, "ports": [port], **changes}


def test_a_vllm_container_published_on_its_private_address_passes():
    assert violations(BACKENDS_PRIVATE, CONTAINER, vllm_container()) == []


@pytest.mark.parametrize("address", ["0.0.0.0", "::", ""])
def test_a_vllm_container_published_on_all_interfaces_is_refused(address):
    props = vllm_container(ports=[{"internal": 8000.0, "external": 8000.0, "ip": address}])
    message = only(violations(BACKENDS_PRIVATE, CONTAINER, props))
    assert "publishes port 8000 on all interfaces" in message


def test_a_vllm_port_published_without_an_address_is_refused():
    props = vllm_container(ports=[{"internal": 8001.0, "external": 8001.0}])
    message = only(violations(BACKENDS_PRIVATE, CONTAINER, props))
    assert "publishes port 8001 on all interfaces (no ip, i.e. 0.0.0.0)" in message


def test_a_vllm_container_on_the_host_network_is_refused():
    props = vllm_container(networkMode="host", ports=[])
    assert "host networking" in only(violations(BACKENDS_PRIVATE, CONTAINER, props))


@pytest.mark.parametrize(
    "listening",
    [
        {"command": ["--web.listen-address=127.0.0.1:9090"]},
        {"command": ["--path.rootfs=/host", "--web.listen-address=10.0.1.2:9100"]},
        {"envs": ["GF_SERVER_HTTP_ADDR=127.0.0.1", "GF_SERVER_HTTP_PORT=3000"]},
    ],
)
def test_a_host_network_container_naming_a_private_address_passes(listening):
    props = {"name": "prometheus", "image": DIGEST, "networkMode": "host", **listening}
    assert violations(BACKENDS_PRIVATE, CONTAINER, props) == []


@pytest.mark.parametrize(
    "listening",
    [
        {"command": ["--web.listen-address=0.0.0.0:9090"]},
        {"command": ["--web.listen-address=:9100"]},
        {"envs": ["GF_SERVER_HTTP_ADDR=0.0.0.0"]},
        {"command": ["--config.file=/etc/prometheus/prometheus.yml"]},
    ],
)
def test_a_host_network_container_listening_everywhere_is_refused(listening):
    props = {"name": "grafana", "image": DIGEST, "networkMode": "host", **listening}
    assert "listens on every interface" in only(violations(BACKENDS_PRIVATE, CONTAINER, props))


def test_the_router_container_may_be_published_on_all_interfaces():
    props = {"name": "litellm", "image": DIGEST, "ports": [{"internal": 8888.0}]}
    assert violations(BACKENDS_PRIVATE, CONTAINER, props) == []


def test_the_activity_publisher_may_use_the_host_network_without_ports():
    props = {"name": PUBLISHER_CONTAINER, "image": DIGEST, "networkMode": "host"}
    assert violations(BACKENDS_PRIVATE, CONTAINER, props) == []


def test_the_activity_publisher_publishing_a_port_is_refused():
    props = {"name": PUBLISHER_CONTAINER, "image": DIGEST, "networkMode": "host"}
    props["ports"] = [{"internal": 9000.0, "external": 9000.0, "ip": "10.0.1.2"}]
    message = only(violations(BACKENDS_PRIVATE, CONTAINER, props))
    assert "publishes port 9000, which the publisher never does" in message


def test_the_pack_knows_the_publisher_by_the_name_the_program_gives_it():
    assert ACTIVITY_PUBLISHER == PUBLISHER_CONTAINER


def test_a_port_address_unknown_during_preview_is_left_to_the_update():
    props = vllm_container(ports=[{"internal": 8000.0, "ip": UNKNOWN_STRING_VALUE}])
    with pytest.raises(UnknownValueError):
        violations(BACKENDS_PRIVATE, CONTAINER, props)


# scheduler-roles-scoped

OWN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1"
OTHER = "arn:aws:ec2:us-east-1:123456789012:instance/i-0bbbbbbbbbbbbbbb2"
SCHEDULER_TRUST = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
)


def start_stop(actions: Any = ("ec2:StartInstances", "ec2:StopInstances"), **statement: Any):
    body = {"Effect": "Allow", "Action": list(actions), "Resource": [OWN], **statement}
    return json.dumps({"Version": "2012-10-17", "Statement": [body]})


def scheduled_stack(policy: str, *extra: tuple[str, str, dict[str, Any]]) -> list:
    return [
        (INSTANCE, "gpu-1-instance", {"arn": OWN}),
        (ROLE, "hours-role", {"name": "hours-role-1", "assumeRolePolicy": SCHEDULER_TRUST}),
        (ROLE_POLICY, "hours-start-stop", {"role": "hours-role-1", "policy": policy}),
        *extra,
    ]


def scheduler_findings(policy: str, *extra: tuple[str, str, dict[str, Any]]) -> list[str]:
    return [m for _, m in stack_violations(SCHEDULER_ROLES_SCOPED, scheduled_stack(policy, *extra))]


def test_a_scheduler_role_starting_and_stopping_only_the_stacks_instances_passes():
    assert scheduler_findings(start_stop()) == []


def test_a_scheduler_role_acting_on_every_instance_is_refused():
    (message,) = scheduler_findings(start_stop(Resource="*"))
    assert message.startswith("hours-role acts on *, which is not one of this stack's instances")


def test_a_scheduler_role_acting_on_another_stacks_instance_is_refused():
    (message,) = scheduler_findings(start_stop(Resource=[OWN, OTHER]))
    assert f"acts on {OTHER}" in message


def test_a_scheduler_role_allowed_more_than_start_and_stop_is_refused():
    (message,) = scheduler_findings(start_stop(["ec2:StartInstances", "ec2:TerminateInstances"]))
    assert "allows ec2:TerminateInstances, beyond starting and stopping instances" in message


def test_a_scheduler_role_allowed_by_not_resource_is_refused():
    policy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "ec2:StopInstances", "NotResource": [OWN]}]}
    )
    assert any("NotResource" in message for message in scheduler_findings(policy))


def test_a_managed_policy_on_a_scheduler_role_is_refused():
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    attachment = (ATTACHMENT, "extra", {"role": "hours-role-1", "policyArn": admin})
    (message,) = scheduler_findings(start_stop(), attachment)
    assert f"has the managed policy {admin} attached" in message


def test_an_inline_policy_declared_on_the_scheduler_role_is_checked_too():
    role = {
        "name": "hours-role-1",
        "assumeRolePolicy": SCHEDULER_TRUST,
        "inlinePolicies": [{"name": "wide", "policy": start_stop(Resource="*")}],
    }
    found = stack_violations(
        SCHEDULER_ROLES_SCOPED, [(INSTANCE, "gpu-1-instance", {"arn": OWN}), (ROLE, "r", role)]
    )
    assert len(found) == 1


def test_roles_that_scheduler_cannot_assume_are_not_its_concern():
    ec2_trust = SCHEDULER_TRUST.replace("scheduler.amazonaws.com", "ec2.amazonaws.com")
    resources = [
        (ROLE, "ssm-role", {"name": "ssm-role-1", "assumeRolePolicy": ec2_trust}),
        (ROLE_POLICY, "publish", {"role": "ssm-role-1", "policy": start_stop(Resource="*")}),
    ]
    assert stack_violations(SCHEDULER_ROLES_SCOPED, resources) == []


def test_instance_arns_unknown_during_preview_are_left_to_the_update():
    unknown = (INSTANCE, "gpu-1-instance", {"arn": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError):
        stack_violations(SCHEDULER_ROLES_SCOPED, [unknown, *scheduled_stack(start_stop())[1:]])

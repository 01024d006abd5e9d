"""Working hours, idle stop, the discovery record and addresses that survive a stop, as the
program registers them under the mocks (both stacks carry the example schedule and idle
stop; variants drop them or switch to ssh mode)."""

from __future__ import annotations

import json

import pytest

from offline.diff import diff_runs
from offline.engine import inputs_after_ignore_changes, urn_glob_matches
from offline.harness import ProgramRun, Registration, reveal, run_program, stack_file_config
from offline.mocks import ACCOUNT_ID
from renderers.discovery import STANDARD_TIER_BYTES
from renderers.idle_stop import CONFIG_PATH, PUBLISHER_CONTAINER, idle_alarm
from tests.support.stacks import ROOT, STACK_FILES, stack_run

SCHEDULE = "aws:scheduler/schedule:Schedule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
INSTANCE = "aws:ec2/instance:Instance"
EIP = "aws:ec2/eip:Eip"
CONTAINER = "docker:index/container:Container"
PARAMETER = "aws:ssm/parameter:Parameter"
DOCKER = "pulumi:providers:docker"
SSH = {"mode": "ssh", "admin_cidrs": ["198.51.100.0/24"]}


def run_with(stack: str, drop: tuple[str, ...] = (), **sections: dict) -> ProgramRun:
    """The program on a stack file with some `metis-llm:` sections dropped or replaced."""
    config, secret_keys = stack_file_config(STACK_FILES[stack])
    for section in drop:
        del config[f"metis-llm:{section}"]
    for section, values in sections.items():
        config[f"metis-llm:{section}"] = json.dumps(values)
    return run_program(config, secret_keys=secret_keys, stack=stack)


def instances(run: ProgramRun) -> list[Registration]:
    return run.of_type(INSTANCE)


def instance_ids(run: ProgramRun) -> list[str]:
    return sorted(r.resource_id for r in instances(run))


def schedule(run: ProgramRun, action: str) -> dict:
    (found,) = [r for r in run.of_type(SCHEDULE) if r.name.endswith(f"-{action}")]
    return reveal(found.inputs)


def schedule_role(run: ProgramRun) -> Registration:
    (role,) = [r for r in run.of_type(ROLE) if "scheduler" in r.inputs["assumeRolePolicy"]]
    return role


# Working hours


@pytest.mark.parametrize("action", ["start", "stop"])
def test_each_schedule_calls_ec2_directly_for_every_instance_of_the_stack(run, action):
    inputs = schedule(run, action)

    assert inputs["target"]["arn"] == f"arn:aws:scheduler:::aws-sdk:ec2:{action}Instances"
    assert json.loads(inputs["target"]["input"]) == {"InstanceIds": instance_ids(run)}


def test_the_schedules_fire_at_the_configured_times_in_the_configured_zone(run):
    start, stop = schedule(run, "start"), schedule(run, "stop")

    assert start["scheduleExpression"] == "cron(0 7 ? * MON-FRI *)"
    assert stop["scheduleExpression"] == "cron(0 20 ? * MON-FRI *)"
    assert {start["scheduleExpressionTimezone"], stop["scheduleExpressionTimezone"]} == {
        "Europe/Berlin"
    }
    assert start["flexibleTimeWindow"] == {"mode": "OFF"}


def test_only_eventbridge_scheduler_of_this_account_may_assume_the_schedule_role(run):
    (statement,) = json.loads(schedule_role(run).inputs["assumeRolePolicy"])["Statement"]

    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_the_schedule_role_may_only_start_and_stop_the_stacks_instances(run):
    role = schedule_role(run)
    (policy,) = [r for r in run.of_type(ROLE_POLICY) if r.parent == role.parent]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]

    assert statement["Action"] == ["ec2:StartInstances", "ec2:StopInstances"]
    assert statement["Resource"] == sorted(r.outputs["arn"] for r in instances(run))
    assert not [a for a in run.of_type(ATTACHMENT) if a.parent == role.parent]


def test_the_schedules_wait_for_their_roles_policy(run):
    (policy,) = [r for r in run.of_type(ROLE_POLICY) if r.name.endswith("-start-stop")]

    assert all(policy.urn in s.dependencies for s in run.of_type(SCHEDULE))


def test_without_a_schedule_nothing_is_scheduled():
    run = run_with("dev", drop=("schedule",))

    assert run.of_type(SCHEDULE) == []
    assert [r for r in run.of_type(ROLE) if "scheduler" in r.inputs["assumeRolePolicy"]] == []


# Idle stop


def test_every_host_has_an_alarm_that_stops_it(run):
    alarms = {reveal(a.inputs)["dimensions"]["InstanceId"]: a for a in run.of_type(ALARM)}

    assert sorted(alarms) == instance_ids(run)
    for alarm in alarms.values():
        assert alarm.inputs["alarmActions"] == ["arn:aws:automate:us-east-1:ec2:stop"]


def test_the_alarms_wait_for_30_idle_minutes_and_never_stop_on_missing_data(run):
    for alarm in run.of_type(ALARM):
        inputs = alarm.inputs
        assert {key: inputs[_camel(key)] for key in idle_alarm(30)} == idle_alarm(30)
        assert inputs["treatMissingData"] == "notBreaching"
        assert (inputs["evaluationPeriods"], inputs["datapointsToAlarm"]) == (30, 30)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_the_publisher_runs_in_the_router_image_on_the_router_host_without_ports_or_keys(run):
    publisher = next(c for c in run.of_type(CONTAINER) if c.inputs["name"] == PUBLISHER_CONTAINER)
    router = run.named("metis-llm-router-container")

    assert publisher.inputs["image"] == router.inputs["image"]
    assert publisher.provider == router.provider
    assert publisher.inputs["networkMode"] == "host"
    assert "ports" not in publisher.inputs
    assert "envs" not in publisher.inputs


def test_the_publisher_reads_every_vllm_server_and_publishes_for_every_host(run, stack_name):
    publisher = next(c for c in run.of_type(CONTAINER) if c.inputs["name"] == PUBLISHER_CONTAINER)
    upload = next(u for u in publisher.inputs["uploads"] if u["file"] == CONFIG_PATH)
    config = json.loads(upload["content"])
    servers = {"dev": 2, "prod": 3}[stack_name]

    assert len(config["servers"]) == servers
    assert all(
        url.startswith("http://10.") and url.endswith("/metrics") for url in config["servers"]
    )
    assert sorted(config["instance_ids"]) == instance_ids(run)


def test_the_instance_role_may_publish_only_into_the_projects_namespace(run):
    (policy,) = [r for r in run.of_type(ROLE_POLICY) if r.name.endswith("-publish-activity")]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]

    assert statement["Action"] == "cloudwatch:PutMetricData"
    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "metis-llm"}}


def test_in_ssh_mode_idle_stop_gives_the_hosts_a_role_to_publish_with_and_no_ssm():
    run = run_with("prod", access={**_access("prod"), **SSH})

    assert len(run.of_type(PROFILE)) == 1
    assert run.of_type(ATTACHMENT) == []
    assert all(i.inputs["iamInstanceProfile"] for i in instances(run))


def test_in_ssh_mode_without_idle_stop_the_hosts_get_no_role():
    run = run_with("prod", drop=("idle_stop", "schedule"), access={**_access("prod"), **SSH})

    assert run.of_type(PROFILE) == []


def _access(stack: str) -> dict:
    config, _ = stack_file_config(STACK_FILES[stack])
    return json.loads(config["metis-llm:access"])


# Addresses that survive a stop


def test_in_ssm_mode_only_the_router_host_needs_an_elastic_ip():
    assert len(stack_run("prod").of_type(EIP)) == 1


def test_in_ssh_mode_every_host_that_stops_keeps_its_address_with_an_elastic_ip():
    run = run_with("prod", access={**_access("prod"), **SSH})
    addresses = {e.outputs["publicIp"] for e in run.of_type(EIP)}

    assert len(run.of_type(EIP)) == len(instances(run)) == 4
    for provider in run.of_type(DOCKER):
        assert provider.inputs["host"].removeprefix("ssh://ubuntu@") in addresses


def test_in_ssh_mode_hosts_that_never_stop_keep_their_public_ip():
    run = run_with("prod", drop=("idle_stop", "schedule"), access={**_access("prod"), **SSH})

    assert len(run.of_type(EIP)) == 1


# Consistent state


def test_nothing_in_the_program_sets_an_instances_power_state(run):
    assert not [r for r in run.registrations if "instanceState" in r.type]


def test_an_up_after_a_refresh_of_a_stopped_stack_replaces_no_host(run):
    """AWS's provider reads a stopped host without an Elastic IP as associating no public
    address, an input that forces a new instance (terraform-provider-aws ec2_instance.go,
    docs/reference/idle-cost.md): the engine keeps the refreshed value, so nothing changes."""
    for host in instances(run):
        refreshed = {**host.inputs, "associatePublicIpAddress": False}

        planned = inputs_after_ignore_changes(refreshed, host.inputs, host.ignore_changes)

        assert planned == refreshed


REFRESH_WITHOUT_DOCKER = "pulumi refresh --exclude '**docker:index/**'"
"""What the README gives to refresh a stopped stack: all but what only the hosts can answer."""


def test_the_readmes_refresh_of_a_stopped_stack_leaves_out_exactly_the_docker_resources(run):
    glob = REFRESH_WITHOUT_DOCKER.split("'")[1]
    docker = {r.urn for r in run.registrations if r.type.startswith("docker:index/")}

    left_out = {r.urn for r in run.registrations if urn_glob_matches(glob, r.urn)}

    assert f"`{REFRESH_WITHOUT_DOCKER}`" in (ROOT / "README.md").read_text()
    assert docker
    assert left_out == docker


def test_changing_the_working_hours_and_the_idle_window_needs_no_running_host():
    """Only AWS API resources change: a stopped stack can take it (no SSH, no Docker)."""
    before = stack_run("prod")
    after = run_with(
        "prod",
        schedule={
            "start": "cron(0 6 ? * MON-SAT *)",
            "stop": "cron(0 22 ? * MON-SAT *)",
            "timezone": "America/New_York",
        },
        idle_stop={"minutes": 45},
    )

    diff = diff_runs(before, after)

    assert {c.registration.type for c in diff.changed} == {SCHEDULE, ALARM, PARAMETER}
    assert not diff.added
    assert not diff.removed


# Discovery


def test_the_discovery_record_tells_ops_the_router_and_the_models(run, stack_name):
    (parameter,) = run.of_type(PARAMETER)
    record = json.loads(parameter.inputs["insecureValue"])

    assert parameter.inputs["name"] == f"/metis-llm/{stack_name}/discovery"
    assert record["router_url"] == run.outputs["router_url"].value
    assert record["models"] == {
        "chat": run.outputs["chat_model"].value,
        "embedding": run.outputs["embedding_model"].value,
        "embed_dim": run.outputs["embed_dim"].value,
    }
    assert record["review_probe"]["request"]["model"] == run.outputs["chat_model"].value


def test_the_discovery_record_carries_the_stacks_ca_for_ops_to_verify_the_router(run):
    (parameter,) = run.of_type(PARAMETER)
    record = json.loads(parameter.inputs["insecureValue"])

    assert record["router_ca_certificate"] == run.outputs["router_ca_certificate"].value
    assert record["router_ca_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert "ca_file" not in record["review_probe"]  # the container's path, not ops's


@pytest.mark.parametrize(
    "router",
    [
        {"domain": {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "name": "llm.example.com"}},
        {"plain_http": True},
    ],
    ids=["domain", "plain-http"],
)
def test_without_a_ca_of_the_stacks_own_the_record_holds_none(router):
    config, _ = stack_file_config(STACK_FILES["dev"])
    run = run_with("dev", router={**json.loads(config["metis-llm:router"]), **router})
    (parameter,) = run.of_type(PARAMETER)
    record = json.loads(parameter.inputs["insecureValue"])

    assert record["router_ca_certificate"] is None
    assert record["router_url"] == run.outputs["router_url"].value


def test_the_discovery_record_is_plain_and_fits_a_standard_parameter(run):
    (parameter,) = run.of_type(PARAMETER)

    assert parameter.inputs["type"] == "String"
    assert parameter.inputs["tier"] == "Standard"
    assert len(parameter.inputs["insecureValue"].encode()) <= STANDARD_TIER_BYTES
    assert run.outputs["api_key"].value not in parameter.inputs["insecureValue"]

"""What the program registers so that later `pulumi up`s keep a working stack: no perpetual
diff, no host moved or replaced by AWS's changing answers, servers on a shared GPU started
in turn, old images pruned, timeouts above every wait, instances after their role's
policy."""

from __future__ import annotations

import json
import re

from offline.diff import diff_runs
from offline.engine import inputs_after_ignore_changes, urn_glob_matches
from offline.harness import run_program, stack_file_config
from offline.mocks import ZONES, CloudMocks, subnet_in
from renderers.idle_stop import PUBLISHER_CONTAINER
from renderers.probes import go_duration
from tests.config_cases import valid
from tests.support.stacks import STACK_FILES, stack_raw_config, stack_run

INSTANCE = "aws:ec2/instance:Instance"
CONTAINER = "docker:index/container:Container"


def stack_config(stack: str, **sections: dict) -> tuple[dict[str, str], list[str]]:
    """A stack file's engine config with some `metis-llm:` sections changed."""
    config, secret_keys = stack_file_config(STACK_FILES[stack])
    for section, values in sections.items():
        current = json.loads(config.get(f"metis-llm:{section}", "{}"))
        config[f"metis-llm:{section}"] = json.dumps({**current, **values})
    return config, secret_keys


def seconds(text: str) -> int:
    """A Go duration of whole units (`1h2m3s`, `90s`, `20m`) in seconds."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert text, "an empty duration"
    assert match, f"not a duration: {text!r}"
    hours, minutes, secs = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + secs


def minutes(timeout: str) -> int:
    assert timeout.endswith("m"), timeout
    return int(timeout[:-1])


UNPROBED = {"dcgm-exporter", PUBLISHER_CONTAINER}
"""Containers with nothing to probe: the distroless dcgm-exporter has no shell nor HTTP client,
the idle stop's activity publisher serves nothing."""


def probed(run) -> list:
    return [c for c in run.of_type(CONTAINER) if c.inputs["name"] not in UNPROBED]


def test_only_dcgm_exporter_and_the_activity_publisher_have_no_health_check(run):
    unprobed = [c for c in run.of_type(CONTAINER) if "healthcheck" not in c.inputs]

    assert {c.inputs["name"] for c in unprobed} == UNPROBED
    assert not any(c.inputs.get("wait") for c in unprobed)


def test_every_health_check_duration_is_written_as_the_provider_reads_it_back(run):
    for container in probed(run):
        check = container.inputs["healthcheck"]
        for key in ("interval", "timeout", "startPeriod"):
            assert check[key] == go_duration(seconds(check[key])), (container.name, key)


def test_every_container_may_take_longer_to_create_or_update_than_its_health_wait(run):
    for container in probed(run):
        timeouts = container.custom_timeouts
        assert minutes(timeouts["create"]) * 60 > container.inputs["waitTimeout"], container.name
        assert timeouts["update"] == timeouts["create"]


def test_a_health_check_edit_replaces_every_container(run):
    for container in probed(run):
        assert "healthcheck" in container.replace_on_changes


def test_a_server_sharing_a_gpu_starts_once_the_first_is_healthy():
    run = stack_run("dev")
    chat = run.named("metis-llm-chat-gpu-1-container")
    embedding = run.named("metis-llm-embedding-gpu-1-container")
    assert chat.urn in embedding.dependencies
    assert embedding.urn not in chat.dependencies


def test_servers_on_separate_hosts_start_together():
    run = stack_run("prod")
    embedding = run.named("metis-llm-embedding-embed-1-container")
    chats = {c.urn for c in run.of_type(CONTAINER) if "-chat-" in c.name}
    assert not chats & set(embedding.dependencies)


def test_each_host_prunes_unused_images_after_every_container_on_it(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    containers = run.of_type(CONTAINER)
    for host in settings.hosts:
        on_host = [
            c
            for c in containers
            if c.name.endswith(f"-{host}-container")
            or (host == settings.router.host and c.name == "metis-llm-router-container")
            or c.name.startswith(f"metis-llm-{host}-exporters-")
            or (host == settings.router.host and c.name.startswith("metis-llm-monitoring-"))
        ]
        prune = run.named(f"metis-llm-{host}-prune-images")
        assert on_host
        assert {c.urn for c in on_host} <= set(prune.dependencies)
        assert sorted(prune.inputs["triggers"]) == sorted(c.resource_id for c in on_host)
        assert prune.inputs["create"].rstrip().endswith("docker image prune --all --force")


def test_every_instance_waits_for_the_ssm_policy_on_its_role(run):
    (attachment,) = run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    for instance in run.of_type(INSTANCE):
        assert attachment.urn in instance.dependencies, instance.name


def test_a_new_availability_answer_moves_no_existing_host():
    config, secret_keys = stack_config("prod")
    before = run_program(config, secret_keys=secret_keys, stack="prod")
    chosen = before.named("metis-llm-chat-1-instance").inputs["subnetId"]
    (zone,) = [zone for zone in ZONES if subnet_in(zone) == chosen]
    elsewhere = [other for other in ZONES if other != zone]
    after = run_program(
        config,
        secret_keys=secret_keys,
        stack="prod",
        mocks=CloudMocks(offerings={"g6e.12xlarge": elsewhere}),
    )
    assert after.named("metis-llm-chat-1-instance").inputs["subnetId"] != chosen, (
        "the program must now be asking for another zone"
    )
    changed = {change.registration.name for change in diff_runs(before, after).changed}
    assert not {name for name in changed if name.endswith("-instance")}


def test_a_subnet_named_for_a_host_moves_that_host_only():
    config, secret_keys = stack_config("dev")
    before = run_program(config, secret_keys=secret_keys)
    hosts = json.loads(config["metis-llm:hosts"])
    hosts["gpu-1"]["subnet_id"] = "subnet-0aaaaaaaaaaaaaaaa"
    moved, _ = stack_config("dev", hosts=hosts)
    after = run_program(moved, secret_keys=secret_keys)
    (change,) = [c for c in diff_runs(before, after).changed if c.registration.type == INSTANCE]
    assert [value.path for value in change.changes] == ["subnetId"]
    assert change.registration.inputs["subnetId"] == "subnet-0aaaaaaaaaaaaaaaa"


def test_the_engine_keeps_the_old_value_of_an_ignored_input():
    old = {"ami": "ami-1", "subnetId": "subnet-a", "instanceType": "g6.xlarge"}
    new = {"ami": "ami-2", "subnetId": "subnet-b", "instanceType": "g6e.xlarge"}
    assert inputs_after_ignore_changes(old, new, ["ami", "subnetId"]) == {
        "ami": "ami-1",
        "subnetId": "subnet-a",
        "instanceType": "g6e.xlarge",
    }


def test_a_urn_glob_star_stays_within_a_segment_and_a_double_star_crosses_them():
    urn = "urn:pulumi:dev::metis-llm::docker:index/container:Container::vllm"

    assert urn_glob_matches("**docker:index/**", urn)
    assert urn_glob_matches("urn:pulumi:dev::metis-llm::docker:index/container:Container::*", urn)
    assert not urn_glob_matches("*docker:index/*", urn)

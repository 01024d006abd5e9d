"""Review readiness under mocks: the probe's resource, where it runs, what it waits for and
what makes it run again."""

from __future__ import annotations

import hashlib
import shlex

from offline.harness import ProgramRun, Registration, is_secret
from tests.config_cases import valid
from tests.support.stacks import stack_raw_config


def probe(run: ProgramRun) -> Registration:
    return run.named("metis-llm-review-ready-probe")


def test_each_stack_has_one_review_probe_in_its_component(run: ProgramRun):
    (component,) = run.of_type("metis-llm:review:ReviewReadiness")
    assert probe(run).parent == component.urn


def test_the_probe_runs_on_the_router_host_the_way_its_readiness_step_reaches_it(
    run: ProgramRun, stack_name: str
):
    router_host = valid(stack_raw_config(stack_name)).router.host
    ready = run.named(f"metis-llm-{router_host}-ready").inputs["create"]
    ssh = shlex.split(probe(run).inputs["create"])[:-1]
    assert shlex.join(ssh) in ready


def test_the_probe_runs_in_the_router_container(run: ProgramRun):
    remote = shlex.split(shlex.split(probe(run).inputs["create"])[-1])
    assert remote[:7] == ["sudo", "-n", "docker", "exec", "litellm", "python3", "-c"]


def chat_containers(run: ProgramRun) -> list[Registration]:
    containers = run.of_type("docker:index/container:Container")
    return [r for r in containers if r.inputs["name"] == "vllm-chat"]


def test_the_probe_waits_for_the_router_and_the_chat_servers(run: ProgramRun):
    waited = set(probe(run).dependencies)
    assert run.named("metis-llm-router-container").urn in waited
    assert {container.urn for container in chat_containers(run)} <= waited


def test_the_probe_runs_again_when_a_container_or_the_router_config_changes(run: ProgramRun):
    triggers = probe(run).inputs["triggers"]
    containers = [run.named("metis-llm-router-container"), *chat_containers(run)]
    assert {container.resource_id for container in containers} <= set(triggers)
    config = run.outputs["litellm_config"].value
    assert f"router config sha256:{hashlib.sha256(config.encode()).hexdigest()}" in triggers


def test_the_probe_runs_again_when_the_chat_model_changes(run: ProgramRun, stack_name: str):
    served_name = valid(stack_raw_config(stack_name)).chat.served_name
    assert served_name in probe(run).inputs["triggers"]


def test_the_probe_command_is_no_secret_and_holds_no_key(run: ProgramRun):
    create = probe(run).inputs["create"]
    assert not is_secret(create)
    assert run.outputs["api_key"].value not in create

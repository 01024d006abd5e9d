"""Secrets and exposure: the router key, the backend key and the HF token stay secret
wherever they go and reach only what needs them; only a stack that says `allow_public`
opens the router to the world."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offline.artifacts import plan_files
from offline.harness import (
    ProgramRun,
    Registration,
    is_secret,
    reveal,
    run_program,
    stack_file_config,
)
from offline.plan import Plan, render_plan
from tests.config_cases import problems, valid, with_changes
from tests.support.stacks import STACK_FILES, stack_raw_config

HF_TOKEN = "hf_test_value_Zq81vXw3"
GATED_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
CONTAINER = "docker:index/container:Container"
ROUTER_CONTAINER = "metis-llm-router-container"
PROMETHEUS_CONTAINER = "metis-llm-monitoring-prometheus"
GRAFANA_CONTAINER = "metis-llm-monitoring-grafana"
PUBLISHER_CONTAINER = "metis-llm-idle-publisher"
"""The idle stop's activity publisher: reads vLLM's unauthenticated /metrics, holds no key."""


def run_with_hf_token(*, as_secret: bool) -> ProgramRun:
    """prod with an HF token, set with `pulumi config set --secret` or without --secret."""
    config, secret_keys = stack_file_config(STACK_FILES["prod"])
    if as_secret:
        secret_keys = [*secret_keys, "metis-llm:hf_token"]
    return run_program(
        {**config, "metis-llm:hf_token": HF_TOKEN}, secret_keys=secret_keys, stack="prod"
    )


@pytest.fixture(scope="module")
def secret_run() -> ProgramRun:
    return run_with_hf_token(as_secret=True)


def env(container: Registration) -> dict[str, str]:
    return dict(item.split("=", 1) for item in reveal(container.inputs["envs"]))


def containers(run: ProgramRun) -> list[Registration]:
    """The containers that serve models: the vLLM servers and the router."""
    return [c for c in run.of_type(CONTAINER) if c.name != PUBLISHER_CONTAINER]


def vllm_containers(run: ProgramRun) -> list[Registration]:
    return [c for c in containers(run) if c.inputs["name"].startswith("vllm-")]


def serving_containers(run: ProgramRun) -> list[Registration]:
    """The vLLM servers and the router: the containers that hold keys in their environment."""
    return [*vllm_containers(run), run.named(ROUTER_CONTAINER)]


def uploads(container: Registration) -> dict[str, str]:
    """A container's uploaded files by path, secrets revealed."""
    return {item["file"]: item["content"] for item in reveal(container.inputs["uploads"])}


@pytest.fixture(scope="module")
def secrets(secret_run: ProgramRun) -> dict[str, str]:
    """Every secret value of the run, by name."""
    router = env(secret_run.named(ROUTER_CONTAINER))
    return {
        "router key": router["LITELLM_MASTER_KEY"],
        "backend key": router["VLLM_BACKEND_KEY"],
        "hf token": HF_TOKEN,
    }


def plain_texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string of an input that is not wrapped as a secret."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from plain_texts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from plain_texts(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def holders(run: ProgramRun, secret: str) -> set[str]:
    """The resources with the value anywhere in their inputs, secret or not."""
    return {r.name for r in run.registrations if secret in json.dumps(reveal(r.inputs))}


# Secret wherever they go


def test_the_api_key_output_is_the_router_key_and_secret(secret_run, secrets):
    output = secret_run.outputs["api_key"]
    assert output.secret
    assert output.value == secrets["router key"]


def test_every_container_environment_holding_a_key_is_secret(secret_run):
    assert all(is_secret(c.inputs["envs"]) for c in serving_containers(secret_run))


def test_the_monitoring_containers_hold_no_key_in_their_environment(secret_run, secrets):
    monitoring = [c for c in containers(secret_run) if c not in serving_containers(secret_run)]

    assert monitoring
    assert [
        c.name for c in monitoring if c.inputs.get("envs") and is_secret(c.inputs["envs"])
    ] == []
    assert holders(secret_run, secrets["backend key"]).isdisjoint(c.name for c in monitoring)


def test_the_activity_publisher_gets_no_environment_and_no_key(secret_run, secrets):
    publisher = secret_run.named(PUBLISHER_CONTAINER)

    assert "envs" not in publisher.inputs
    assert not any(value in json.dumps(reveal(publisher.inputs)) for value in secrets.values())


def test_no_plain_input_holds_a_secret(secret_run, secrets):
    leaks = [
        (registration.name, path, name)
        for registration in secret_run.registrations
        for path, text in plain_texts(registration.inputs)
        for name, secret in secrets.items()
        if secret in text
    ]
    assert leaks == []


def test_no_plain_output_holds_a_secret(secret_run, secrets):
    leaks = [
        (output_name, name)
        for output_name, output in secret_run.outputs.items()
        if not output.secret
        for name, secret in secrets.items()
        if secret in json.dumps(output.value)
    ]
    assert leaks == []


def test_an_hf_token_set_without_secret_stops_the_program_without_showing_it():
    with pytest.raises(pulumi.RunError, match="metis-llm:hf_token = \\[secret\\]") as caught:
        run_with_hf_token(as_secret=False)
    assert "stored in plain text" in str(caught.value)
    assert HF_TOKEN not in str(caught.value)


def test_an_empty_hf_token_counts_as_unset():
    config, secret_keys = stack_file_config(STACK_FILES["dev"])
    gated = json.dumps({**json.loads(config["metis-llm:chat"]), "model": GATED_MODEL})
    config = {**config, "metis-llm:chat": gated, "metis-llm:hf_token": ""}
    with pytest.raises(pulumi.RunError, match="is gated on Hugging Face"):
        run_program(config, secret_keys=[*secret_keys, "metis-llm:hf_token"])


# Never in what is rendered, even as a secret


def texts_of(resource_type: str, key: str) -> Callable[[ProgramRun], list[str]]:
    """The input `key` of each resource of a type that has it, as text, secrets revealed."""
    return lambda run: [
        json.dumps(reveal(r.inputs[key])) for r in run.of_type(resource_type) if key in r.inputs
    ]


RENDERED: dict[str, Callable[[ProgramRun], list[str]]] = {
    "metis_config": lambda run: [run.outputs["metis_config"].value],
    "litellm_config": lambda run: [run.outputs["litellm_config"].value],
    "the router's uploaded config": lambda run: [
        json.dumps(reveal(run.named(ROUTER_CONTAINER).inputs["uploads"]))
    ],
    "the uploaded Prometheus config and rules": lambda run: [
        text
        for path, text in uploads(run.named(PROMETHEUS_CONTAINER)).items()
        if not path.endswith("/router-key")
    ],
    "Grafana's uploaded provisioning and dashboards": lambda run: [
        text
        for path, text in uploads(run.named(GRAFANA_CONTAINER)).items()
        if not path.endswith("/admin-password")
    ],
    "a container command line": texts_of(CONTAINER, "command"),
    "cloud-init": texts_of("aws:ec2/instance:Instance", "userData"),
}


@pytest.mark.parametrize("place", sorted(RENDERED))
def test_no_secret_is_rendered_into(secret_run, secrets, place):
    texts = RENDERED[place](secret_run)
    assert texts, f"nothing found for {place}"
    assert [name for name, secret in secrets.items() for text in texts if secret in text] == []


def test_the_offline_plan_shows_no_secret(secret_run, secrets):
    settings = valid(stack_raw_config("prod"), has_hf_token=True)
    plan = Plan("prod", STACK_FILES["prod"], settings, secret_run)
    shown = [render_plan(plan, Path("plan-out/prod"), plan_files(plan)), *plan_files(plan).values()]
    assert [name for name, secret in secrets.items() for text in shown if secret in text] == []


# Each key reaches only what needs it


def test_the_router_key_and_the_backend_key_differ(secrets):
    assert secrets["router key"] != secrets["backend key"]


def test_the_backend_key_reaches_the_vllm_and_router_containers_only(secret_run, secrets):
    assert holders(secret_run, secrets["backend key"]) == {
        c.name for c in serving_containers(secret_run)
    }


def test_the_backend_key_is_no_output(secret_run, secrets):
    outputs = json.dumps({name: output.value for name, output in secret_run.outputs.items()})
    assert secrets["backend key"] not in outputs


def test_the_router_key_reaches_the_router_and_prometheus_only(secret_run, secrets):
    assert holders(secret_run, secrets["router key"]) == {ROUTER_CONTAINER, PROMETHEUS_CONTAINER}


def test_prometheus_gets_the_router_key_as_a_secret_file_of_its_own(secret_run, secrets):
    prometheus = secret_run.named(PROMETHEUS_CONTAINER)

    assert is_secret(prometheus.inputs["uploads"])
    assert uploads(prometheus)["/etc/prometheus/router-key"] == secrets["router key"]


def test_prometheus_trusts_the_router_with_the_stacks_ca(secret_run):
    prometheus = secret_run.named(PROMETHEUS_CONTAINER)

    assert uploads(prometheus)["/etc/prometheus/router-ca.pem"] == (
        secret_run.outputs["router_ca_certificate"].value
    )


def test_grafanas_admin_password_is_generated_and_exported_as_a_secret(secret_run):
    output = secret_run.outputs["grafana_admin_password"]
    grafana = secret_run.named(GRAFANA_CONTAINER)

    assert output.secret
    assert len(output.value) == 32
    assert is_secret(grafana.inputs["uploads"])
    assert uploads(grafana)["/etc/grafana/admin-password"] == output.value


def test_the_hf_token_reaches_the_vllm_containers_only(secret_run):
    vllm = {c.name for c in vllm_containers(secret_run)}
    assert vllm
    assert holders(secret_run, HF_TOKEN) == vllm
    assert all(env(c)["HF_TOKEN"] == HF_TOKEN for c in vllm_containers(secret_run))


def test_the_hf_token_is_no_output(secret_run):
    outputs = json.dumps({name: output.value for name, output in secret_run.outputs.items()})
    assert HF_TOKEN not in outputs


# Only allow_public opens the router to the world

WORLDS = st.sampled_from(["0.0.0.0/0", "::/0", "0::/0", "::0/0", "0:0:0:0:0:0:0:0/0"])
NARROW = st.sampled_from(["198.51.100.0/24", "203.0.113.7/32", "2001:db8::/32"])
DEV = stack_raw_config("dev")


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(NARROW, max_size=3),
    world=WORLDS,
    after=st.lists(NARROW, max_size=3),
    allow_public=st.sampled_from([False, None]),
)
def test_a_router_open_to_the_world_is_refused_without_allow_public(
    before, world, after, allow_public
):
    router = {"allowed_cidrs": [*before, world, *after]}
    if allow_public is not None:
        router["allow_public"] = allow_public
    keys = {problem.key for problem in problems(with_changes(DEV, router=router))}
    assert f"metis-llm:router.allowed_cidrs[{len(before)}]" in keys


@settings(max_examples=30, deadline=None)
@given(
    world=st.sampled_from(["0.0.0.0/0", "::/0"]), narrow=st.lists(NARROW, max_size=3, unique=True)
)
def test_a_router_open_to_the_world_with_allow_public_loads(world, narrow):
    router = {"allowed_cidrs": [*narrow, world], "allow_public": True}
    assert world in valid(with_changes(DEV, router=router)).router.allowed_cidrs


@pytest.mark.parametrize("world", ["0.0.0.0/0", "::/0"])
def test_allow_public_never_opens_ssh_to_the_world(world):
    raw = with_changes(
        DEV,
        router={"allow_public": True},
        access={"mode": "ssh", "admin_cidrs": [world]},
    )
    assert "metis-llm:access.admin_cidrs[0]" in {problem.key for problem in problems(raw)}

"""The policy pack as Pulumi runs it: started like the CLI's analyzer plugin and asked over
gRPC about the resources the program registers for each stack, and about variants of them
that break one rule each."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from offline.harness import ProgramRun, Registration, run_program, stack_file_config
from policy.guardrails import POLICIES
from policy.guardrails.containers import CONTAINER, REMOTE_IMAGE
from policy.guardrails.instances import INSTANCE
from policy.guardrails.network import INGRESS_RULE, SECURITY_GROUP
from policy.guardrails.scheduler import ROLE_POLICY
from tests.support.stacks import STACK_FILES, stack_run

pytestmark = pytest.mark.timeout(120)

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
WORLD = ["0.0.0.0/0", "::/0"]
DELETE = object()


@dataclass(frozen=True)
class Finding:
    policy: str
    resource: str
    message: str
    mandatory: bool


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack, started as Pulumi's analyzer plugin starts it: `python -u -m pulumi.policy
    <engine> <pack directory>`, which prints the port of its gRPC server."""
    log = tmp_path_factory.mktemp("policy-pack") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(POLICY_DIR)],
            cwd=POLICY_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        port = process.stdout.readline().strip()
        if not port.isdigit():
            pytest.fail(f"the pack did not start: {log.read_text()}")
        with grpc.insecure_channel(f"127.0.0.1:{int(port)}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def findings(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
    registrations: Sequence[Registration],
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Finding]:
    """Every diagnostic the pack reports for the resources, one by one and as a stack
    (violations, and advisories for what a preview cannot know), with the given pack config
    (`{policy name: {property: value}}`, as in a --policy-pack-config file)."""
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(properties=struct(values))
                for name, values in (config or {}).items()
            }
        )
    )
    names = {registration.urn: registration.name for registration in registrations}

    def found_in(response: analyzer_pb2.AnalyzeResponse, resource: str | None) -> list[Finding]:
        return [
            Finding(
                diagnostic.policyName,
                resource or names.get(diagnostic.urn, ""),
                diagnostic.message,
                diagnostic.enforcementLevel == analyzer_pb2.MANDATORY,
            )
            for diagnostic in response.diagnostics
        ]

    found = []
    for registration in registrations:
        request = analyzer_pb2.AnalyzeRequest(
            type=registration.type,
            properties=struct(registration.inputs),
            urn=registration.urn,
            name=registration.name,
        )
        found += found_in(analyzer.Analyze(request), registration.name)
    # A stack policy reads the resources' outputs (pulumi_policy.PolicyResource.props).
    stack = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type, properties=struct(r.outputs), urn=r.urn, name=r.name
            )
            for r in registrations
        ]
    )
    return found + found_in(analyzer.AnalyzeStack(stack), None)


# What the pack declares


def test_the_pack_declares_every_policy_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "metis-llm-guardrails"
    assert {policy.name: policy.enforcementLevel for policy in info.policies} == {
        policy.name: analyzer_pb2.MANDATORY for policy in POLICIES
    }


def absolute_imports(source: str) -> set[str]:
    """The modules a module imports by absolute name (`config.exposure`, `pulumi_policy`)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def project_modules_reached(names: set[str]) -> dict[str, set[str]]:
    """Each project module (and package `__init__`) the names reach, directly or through each
    other, with what it imports itself."""
    reached: dict[str, set[str]] = {}
    pending = [name for name in names if name.split(".")[0] in PROJECT_PACKAGES]
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        path = PROJECT_DIR.joinpath(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        reached[name] = absolute_imports(path.read_text())
        parent = name.rpartition(".")[0]
        pending += [n for n in [*reached[name], parent] if n.split(".")[0] in PROJECT_PACKAGES]
    return reached


PROJECT_DIR = POLICY_DIR.parent
PROJECT_PACKAGES = {"config"}
"""What the pack may import from the project (its `__main__` puts the project on sys.path)."""


def test_the_pack_imports_nothing_beyond_its_requirements_and_the_standard_library():
    """It runs in its own virtualenv, built from policy/requirements.txt alone, and reads the
    stack config's definitions from modules of the project that use the standard library
    only."""
    modules = [
        path
        for path in POLICY_DIR.rglob("*.py")
        if "venv" not in path.relative_to(POLICY_DIR).parts
    ]
    imported = set().union(*(absolute_imports(path.read_text()) for path in modules))
    outside = {name.split(".")[0] for name in imported} - sys.stdlib_module_names
    assert outside == {"pulumi_policy", "guardrails", "config"}
    reached = project_modules_reached(imported)
    assert {"config", "config.exposure", "config.ports", "config.images"} <= set(reached)
    for module, its_imports in reached.items():
        foreign = {n.split(".")[0] for n in its_imports} - sys.stdlib_module_names - {"config"}
        assert foreign == set(), f"{module} imports {foreign}"


def test_the_pack_runs_on_the_pulumi_policy_the_tests_run():
    """One version: policy/requirements.txt (what the CLI installs into the pack's own
    virtualenv) pins the pulumi-policy that pyproject.toml pins for these tests."""
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    (pinned,) = [r for r in project["dependency-groups"]["dev"] if r.startswith("pulumi-policy")]
    requirements = (POLICY_DIR / "requirements.txt").read_text().split()
    assert requirements == [pinned]
    assert pinned == f"pulumi-policy=={metadata.version('pulumi-policy')}"


def test_the_public_router_port_is_a_config_of_the_pack(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    (ingress,) = [policy for policy in info.policies if policy.name == "no-world-ingress"]
    assert ingress.configSchema.properties["allowPublicRouterPort"]["type"] == "integer"


# The stacks as they are


CHECKED_TYPES = {INGRESS_RULE, INSTANCE, REMOTE_IMAGE, CONTAINER}


def test_every_resource_of_the_stacks_passes_every_policy(analyzer, run):
    assert CHECKED_TYPES.issubset(registration.type for registration in run.registrations)
    assert findings(analyzer, run.registrations) == []


# Each rule broken in turn


@dataclass(frozen=True)
class Variant:
    """A registered resource with some inputs changed (paths of keys and list indexes), in
    its outputs too (what stack policies read)."""

    resource_type: str
    name_part: str
    changes: Mapping[tuple[str | int, ...], Any]

    def of(self, run: ProgramRun) -> Registration:
        original = next(r for r in run.of_type(self.resource_type) if self.name_part in r.name)
        changed = copy.deepcopy(original)
        for path, value in self.changes.items():
            *parents, last = path
            for target in (changed.inputs, changed.outputs):
                for key in parents:
                    target = target[key]
                if value is DELETE:
                    del target[last]
                else:
                    target[last] = value
        return changed


VARIANTS = [
    pytest.param(
        "no-world-ingress",
        Variant(INGRESS_RULE, "router-", {("cidrIpv4",): "0.0.0.0/0"}),
        id="router-rule-from-the-ipv4-world",
    ),
    pytest.param(
        "no-world-ingress",
        Variant(INGRESS_RULE, "router-", {("cidrIpv4",): DELETE, ("cidrIpv6",): "::/0"}),
        id="router-rule-from-the-ipv6-world",
    ),
    pytest.param(
        "vllm-ports-private",
        Variant(
            INGRESS_RULE,
            "vllm-internal",
            {("referencedSecurityGroupId",): DELETE, ("cidrIpv4",): "198.51.100.0/24"},
        ),
        id="vllm-rule-from-a-cidr",
    ),
    pytest.param(
        "vllm-ports-private",
        Variant(INGRESS_RULE, "router-", {("fromPort",): 8000.0, ("toPort",): 8000.0}),
        id="router-rule-on-a-vllm-port",
    ),
    pytest.param(
        "vllm-ports-private",
        Variant(INGRESS_RULE, "vllm-internal", {("referencedSecurityGroupId",): "sg-0other"}),
        id="vllm-rule-from-another-group",
    ),
    pytest.param(
        "monitoring-ports-private",
        Variant(
            INGRESS_RULE,
            "node-exporter",
            {("referencedSecurityGroupId",): DELETE, ("cidrIpv4",): "198.51.100.0/24"},
        ),
        id="exporter-rule-from-a-cidr",
    ),
    pytest.param(
        "monitoring-ports-private",
        Variant(INGRESS_RULE, "router-", {("fromPort",): 3000.0, ("toPort",): 3000.0}),
        id="router-rule-on-grafanas-port",
    ),
    pytest.param(
        "no-world-ingress",
        Variant(
            SECURITY_GROUP,
            "sg",
            {
                ("ingress",): [
                    {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": WORLD[:1]}
                ]
            },
        ),
        id="inline-ssh-from-the-world",
    ),
    pytest.param(
        "instances-require-imdsv2",
        Variant(INSTANCE, "chat-1", {("metadataOptions", "httpTokens"): "optional"}),
        id="imdsv1-allowed",
    ),
    pytest.param(
        "instances-require-imdsv2",
        Variant(INSTANCE, "router", {("metadataOptions",): DELETE}),
        id="metadata-options-left-out",
    ),
    pytest.param(
        "volumes-encrypted",
        Variant(INSTANCE, "embed-1", {("rootBlockDevice", "encrypted"): False}),
        id="unencrypted-root-volume",
    ),
    pytest.param(
        "volumes-encrypted",
        Variant(INSTANCE, "chat-2", {("ebsBlockDevices",): [{"deviceName": "/dev/sdf"}]}),
        id="unencrypted-data-volume",
    ),
    pytest.param(
        "instances-tagged",
        Variant(INSTANCE, "chat-1", {("tags", "stack"): DELETE}),
        id="no-stack-tag",
    ),
    pytest.param(
        "instances-tagged",
        Variant(INSTANCE, "router", {("tags", "stack"): "staging"}),
        id="another-stacks-tag",
    ),
    pytest.param(
        "images-pinned",
        Variant(REMOTE_IMAGE, "chat", {("name",): "vllm/vllm-openai:latest"}),
        id="rolling-vllm-image",
    ),
    pytest.param(
        "images-pinned",
        Variant(REMOTE_IMAGE, "router", {("name",): "ghcr.io/berriai/litellm"}),
        id="untagged-router-image",
    ),
    pytest.param(
        "images-pinned",
        Variant(CONTAINER, "embedding", {("image",): "vllm/vllm-openai:nightly"}),
        id="container-on-a-rolling-tag",
    ),
    pytest.param(
        "backends-not-published",
        Variant(CONTAINER, "chat-chat-1", {("ports", 0, "ip"): DELETE}),
        id="vllm-port-on-all-interfaces",
    ),
    pytest.param(
        "backends-not-published",
        Variant(CONTAINER, "embedding", {("networkMode",): "host"}),
        id="vllm-on-the-host-network",
    ),
    pytest.param(
        "backends-not-published",
        Variant(CONTAINER, "monitoring-grafana", {("envs",): ["GF_SERVER_HTTP_ADDR=0.0.0.0"]}),
        id="grafana-on-every-interface",
    ),
    pytest.param(
        "backends-not-published",
        Variant(CONTAINER, "monitoring-prometheus", {("command",): ["--config.file=x.yml"]}),
        id="prometheus-on-its-default-address",
    ),
]


@pytest.mark.parametrize(("policy", "variant"), VARIANTS)
def test_each_broken_rule_is_reported_by_its_policy_alone(analyzer, policy, variant):
    changed = variant.of(stack_run("prod"))
    found = findings(analyzer, [changed])
    assert found, "no violation reported"
    assert {(f.policy, f.resource, f.mandatory) for f in found} == {(policy, changed.name, True)}


def test_values_unknown_during_preview_are_left_to_the_update(analyzer):
    """In a preview, a container's image id and its host's private IP are not known yet: the
    pack says it could not check them (advisory) and checks them again during `pulumi up`."""
    unknown = {("image",): UNKNOWN_STRING_VALUE, ("ports", 0, "ip"): UNKNOWN_STRING_VALUE}
    found = findings(analyzer, [Variant(CONTAINER, "chat-chat-1", unknown).of(stack_run("prod"))])
    assert {f.policy for f in found} == {"images-pinned", "backends-not-published"}
    assert not any(f.mandatory for f in found)
    assert all("can't be known during preview" in f.message for f in found)


# A stack that opens its router to the world on purpose


@pytest.fixture(scope="module")
def public_run() -> ProgramRun:
    config, _ = stack_file_config(STACK_FILES["dev"])
    router = json.loads(config["metis-llm:router"])
    config["metis-llm:router"] = json.dumps(
        {**router, "allow_public": True, "allowed_cidrs": WORLD}
    )
    return run_program(config)


def router_rules_from_the_world(run: ProgramRun) -> set[str]:
    return {
        r.name
        for r in run.of_type(INGRESS_RULE)
        if r.inputs.get("cidrIpv4") in WORLD or r.inputs.get("cidrIpv6") in WORLD
    }


def test_a_public_router_is_refused_unless_the_pack_allows_it(analyzer, public_run):
    found = findings(analyzer, public_run.registrations)
    assert {f.policy for f in found} == {"no-world-ingress"}
    assert {f.resource for f in found} == router_rules_from_the_world(public_run)
    assert len(found) == len(WORLD)


def test_a_public_router_passes_when_the_pack_allows_its_port(analyzer, public_run):
    config = {"no-world-ingress": {"allowPublicRouterPort": 8888}}
    assert findings(analyzer, public_run.registrations, config) == []


def test_allowing_another_port_keeps_the_public_router_refused(analyzer, public_run):
    config = {"no-world-ingress": {"allowPublicRouterPort": 9999}}
    found = findings(analyzer, public_run.registrations, config)
    assert {f.resource for f in found} == router_rules_from_the_world(public_run)
    assert all("only tcp 9999, the router port, may be" in f.message for f in found)


def test_a_schedule_role_widened_to_every_instance_is_refused_against_the_role(analyzer):
    run = stack_run("prod")
    wide = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:StopInstances", "Resource": "*"}],
        }
    )
    policy = Variant(ROLE_POLICY, "hours-start-stop", {("policy",): wide}).of(run)
    unchanged = [r for r in run.registrations if r.urn != policy.urn]

    found = findings(analyzer, [*unchanged, policy])

    assert {(f.policy, f.resource) for f in found} == {
        ("scheduler-roles-scoped", "metis-llm-hours-role")
    }


# A public router without TLS


def public_router_run(**changes: object) -> ProgramRun:
    config, _ = stack_file_config(STACK_FILES["dev"])
    router = json.loads(config["metis-llm:router"])
    config["metis-llm:router"] = json.dumps(
        {**router, "allow_public": True, "allowed_cidrs": WORLD, **changes}
    )
    return run_program(config)


def test_a_public_router_serving_plain_http_is_refused_even_where_the_port_is_allowed(analyzer):
    run = public_router_run(plain_http=True)
    config = {"no-world-ingress": {"allowPublicRouterPort": 8888}}
    found = findings(analyzer, run.registrations, config)
    assert {f.policy for f in found} == {"public-router-tls"}
    assert {f.resource for f in found} == router_rules_from_the_world(run)
    assert all("where the router serves plain HTTP" in f.message for f in found)


def test_a_public_router_behind_a_domains_tls_listener_passes(analyzer):
    domain = {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "name": "llm.example.com"}
    run = public_router_run(domain=domain)
    config = {"no-world-ingress": {"allowPublicRouterPort": 443}}
    assert findings(analyzer, run.registrations, config) == []

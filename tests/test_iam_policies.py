"""The IAM documents in docs/iam/ cover what the program registers: run under mocks for both
stacks and the variants that change what it creates, every resource type and lookup has its
provider calls listed (docs/iam/actions-by-resource.json), the deployer policy grants them
and nothing else, and the PR preview role only reads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import offline.harness as harness
from components.tags import stack_tags
from config.project import NAMESPACE
from offline.mocks import CloudMocks
from tests.support.stacks import EXAMPLE_KEY, ROOT, STACK_FILES

IAM = ROOT / "docs" / "iam"
ACTIONS = json.loads((IAM / "actions-by-resource.json").read_text())
VARIANTS: dict[str, dict[str, Any]] = {
    "ssh access": {"access": {"mode": "ssh", "admin_cidrs": ["198.51.100.0/24"]}},
    "spot hosts": {"hosts": {"gpu-1": {"instance_type": "g6.xlarge", "spot": True}}},
    "a given subnet": {"network": {"subnet_id": "subnet-0123456789abcdef0"}},
    "a domain": {
        "router": {"domain": {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "name": "llm.example.com"}}
    },
}


def _policy(name: str) -> dict[str, Any]:
    return json.loads((IAM / name).read_text())


def _granted(policy: dict[str, Any]) -> set[str]:
    return {
        action
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
    }


def _variant_file(tmp: Path, name: str, changes: dict[str, Any]) -> Path:
    document = yaml.safe_load(STACK_FILES["dev"].read_text())
    config = document["config"]
    for section, values in changes.items():
        key = f"{NAMESPACE}:{section}"
        config[key] = {**copy.deepcopy(config.get(key) or {}), **values}
    config[f"{NAMESPACE}:access"]["ssh_public_key"] = EXAMPLE_KEY
    path = tmp / f"Pulumi.{name.replace(' ', '-')}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _registered(tmp: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Resource types and lookup tokens of every stack file and variant, under mocks."""
    lookups: set[str] = set()

    class RecordingMocks(CloudMocks):
        def call(self, args):
            lookups.add(args.token)
            return super().call(args)

    files = [*STACK_FILES.values()] + [_variant_file(tmp, n, c) for n, c in VARIANTS.items()]
    original, harness.CloudMocks = harness.CloudMocks, RecordingMocks
    try:
        types = {r.type for f in files for r in harness.run_stack_file(f).registrations if r.custom}
    finally:
        harness.CloudMocks = original
    return frozenset(types), frozenset(lookups)


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> tuple[frozenset[str], frozenset[str]]:
    return _registered(tmp_path_factory.mktemp("variants"))


def test_every_resource_type_the_program_registers_has_its_calls_listed(registered):
    types, _ = registered

    assert types - set(ACTIONS["resources"]) == set()


def test_every_lookup_the_program_makes_has_its_calls_listed(registered):
    _, lookups = registered

    assert "aws:ec2/getSubnet:getSubnet" in lookups
    assert lookups - set(ACTIONS["lookups"]) == set()


def test_the_deployer_policy_grants_every_listed_call():
    needed = {
        action
        for section in ("resources", "lookups")
        for entry in ACTIONS[section].values()
        for action in entry["actions"]
    } | set(ACTIONS["state_backend_s3"]["deploy"])

    assert needed - _granted(_policy("deployer-policy.json")) == set()


def test_the_deployer_policy_grants_nothing_unlisted():
    listed = {
        action
        for section in ("resources", "lookups")
        for entry in ACTIONS[section].values()
        for action in entry["actions"]
    } | set(ACTIONS["state_backend_s3"]["deploy"])

    assert _granted(_policy("deployer-policy.json")) - listed == set()


def test_the_preview_role_only_makes_the_lookups_and_reads_the_state():
    lookups = {action for entry in ACTIONS["lookups"].values() for action in entry["actions"]}

    assert _granted(_policy("preview-policy.json")) == lookups | set(
        ACTIONS["state_backend_s3"]["preview"]
    )


def test_the_preview_role_trusts_only_pull_request_workflows_of_one_repository():
    (statement,) = _policy("preview-trust-policy.json")["Statement"]

    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:ORG/REPO:pull_request",
        }
    }


def test_the_deployer_opens_sessions_only_to_hosts_tagged_with_the_project():
    statements = _policy("deployer-policy.json")["Statement"]
    (instances,) = [s for s in statements if s["Resource"] == "arn:aws:ec2:*:*:instance/*"]

    assert instances["Action"] == ["ssm:StartSession"]
    assert instances["Condition"] == {
        "StringEquals": {"aws:ResourceTag/project": stack_tags("dev", "gpu-host")["project"]}
    }


def test_the_deployer_attaches_only_the_ssm_core_policy_and_passes_roles_only_to_ec2():
    statements = {s["Sid"]: s for s in _policy("deployer-policy.json")["Statement"]}

    assert statements["OnlyTheSsmCorePolicy"]["Condition"]["ArnEquals"]["iam:PolicyARN"] == (
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    assert statements["PassTheInstanceRoleToEc2"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}
    }


def test_the_deployer_may_open_the_dashboards_port_forward_to_the_stacks_hosts():
    statements = _policy("deployer-policy.json")["Statement"]
    documents = {
        resource
        for statement in statements
        if statement["Action"] == ["ssm:StartSession"]
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if ":document/" in resource
    }

    assert documents == {
        "arn:aws:ssm:*::document/AWS-StartSSHSession",
        "arn:aws:ssm:*::document/AWS-StartPortForwardingSession",
    }


def test_the_deployer_passes_the_schedule_role_only_to_eventbridge_scheduler():
    statements = {s["Sid"]: s for s in _policy("deployer-policy.json")["Statement"]}

    assert statements["PassTheScheduleRoleToScheduler"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }


LINKED = "aws-service-role"


def test_the_deployer_creates_only_the_service_linked_roles_alarm_actions_and_the_nlb_use():
    statements = _policy("deployer-policy.json")["Statement"]
    roles = [s for s in statements if "iam:CreateServiceLinkedRole" in s["Action"]]

    assert {
        s["Condition"]["StringEquals"]["iam:AWSServiceName"]: s["Resource"].split(":role/")[1]
        for s in roles
    } == {
        "events.amazonaws.com": f"{LINKED}/events.amazonaws.com/AWSServiceRoleForCloudWatchEvents",
        "elasticloadbalancing.amazonaws.com": f"{LINKED}/elasticloadbalancing.amazonaws.com/*",
    }
    assert all(set(s["Condition"]) == {"StringEquals"} for s in roles)


def test_schedules_alarms_and_the_discovery_record_are_scoped_to_the_projects_names():
    statements = {s["Sid"]: s for s in _policy("deployer-policy.json")["Statement"]}

    assert statements["WorkingHoursSchedules"]["Resource"].endswith("schedule/default/metis-llm-*")
    assert statements["IdleStopAlarms"]["Resource"].endswith(":alarm:metis-llm-*")
    assert statements["DiscoveryRecord"]["Resource"].endswith(":parameter/metis-llm/*")

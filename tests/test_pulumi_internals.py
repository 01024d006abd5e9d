"""A canary for the Pulumi internals the project relies on where Pulumi has no public API.

pyproject.toml pins pulumi and pulumi-policy exactly because of them. When an upgrade
moves one, these tests fail naming the internal, what uses it and the version it was read
from, instead of a test somewhere else failing for no visible reason.
"""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from importlib import metadata

import pulumi
import pytest
from pulumi.runtime.proto import resource_pb2

from offline.harness import run_under_mocks
from tests.support.stacks import ROOT

READ_FROM = {"pulumi": "3.272.0", "pulumi-policy": "1.21.0"}
"""The versions whose source the uses below were read from."""

INTERNALS = {
    "pulumi.runtime.settings.get_monitor": "config/stack.py: running_under_mocks",
    "pulumi.runtime.mocks.MockMonitor": "config/stack.py: running_under_mocks; "
    "offline/recording.py: RecordingMonitor",
    "pulumi.runtime.mocks.MockMonitor.RegisterResource": "offline/recording.py: RecordingMonitor",
    "pulumi.runtime.stack.Stack.output": "offline/recording.py: exports (root stack outputs)",
    "pulumi.runtime.rpc.deserialize_properties": "offline/recording.py: RecordingMonitor",
    "pulumi.runtime.rpc.is_rpc_secret": "offline/harness.py: is_secret, reveal",
    "pulumi.runtime.rpc.unwrap_rpc_secret": "offline/harness.py: reveal",
    "pulumi.dynamic.dynamic.serialize_provider": "components/spot.py (how the engine stores "
    "the spot launcher: by reference); tests/test_spot_fallback.py",
    "pulumi_policy.deserialize.deserialize_properties": "tests/policy_cases.py",
    "pulumi_policy.proxy.unknown_checking_proxy": "tests/policy_cases.py",
    "pulumi_policy.proxy.UNKNOWN_STRING_VALUE": "tests/test_policy_pack.py, test_policy_rules.py",
    "pulumi_policy.proxy.UnknownValueError": "tests/test_policy_rules.py",
}
"""Each internal by dotted name, and what uses it."""

REGISTER_RESOURCE_FIELDS = (
    "type",
    "name",
    "parent",
    "custom",
    "object",
    "provider",
    "dependencies",
    "ignoreChanges",
    "replaceOnChanges",
    "customTimeouts",
)
"""The fields of the engine's RegisterResourceRequest that RecordingMonitor reads."""
REGISTER_RESOURCE_ANSWER_FIELDS = ("urn", "id", "object")
"""And of the mock engine's answer: the URN, the id and the state the mocks answered."""


def moved(what: str, used_by: str, how: str) -> str:
    return (
        f"Pulumi internal moved: {what} ({how}), used by {used_by}; read from pulumi "
        f"{READ_FROM['pulumi']} / pulumi-policy {READ_FROM['pulumi-policy']}. Adapt the user "
        "to the new version, or pin the old one again."
    )


def lookup(dotted: str) -> object:
    """The object a dotted name names: a module's attribute, or an attribute of one."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(dotted)


@pytest.mark.parametrize("dotted", sorted(INTERNALS))
def test_each_internal_is_still_there(dotted):
    try:
        lookup(dotted)
    except (ImportError, AttributeError) as error:
        pytest.fail(moved(dotted, INTERNALS[dotted], f"gone: {error}"))


def test_the_engine_still_sends_what_the_recording_monitor_reads():
    fields = resource_pb2.RegisterResourceRequest.DESCRIPTOR.fields_by_name
    timeouts = resource_pb2.RegisterResourceRequest.CustomTimeouts.DESCRIPTOR.fields_by_name
    missing = [name for name in REGISTER_RESOURCE_FIELDS if name not in fields]
    missing += [
        f"customTimeouts.{op}" for op in ("create", "update", "delete") if op not in timeouts
    ]
    answer = resource_pb2.RegisterResourceResponse.DESCRIPTOR.fields_by_name
    missing += [
        f"response.{name}" for name in REGISTER_RESOURCE_ANSWER_FIELDS if name not in answer
    ]
    assert not missing, moved(
        "RegisterResourceRequest fields", "offline/recording.py", f"no {', '.join(missing)}"
    )


def test_set_mocks_still_takes_the_monitor_to_talk_to():
    parameters = inspect.signature(pulumi.runtime.set_mocks).parameters
    assert "monitor" in parameters, moved(
        "pulumi.runtime.set_mocks(monitor=...)", "offline/harness.py", "no monitor parameter"
    )


def test_a_run_still_records_what_the_plan_and_the_tests_read():
    """The internals at work together: parent, dependencies, ignore_changes, custom
    timeouts and a secret export, recorded from one small program."""

    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Parent", "parent")
        first = pulumi.CustomResource("test:index:Thing", "first", {"size": 1})
        pulumi.CustomResource(
            "test:index:Thing",
            "second",
            {"size": 2},
            pulumi.ResourceOptions(
                parent=parent,
                depends_on=[first],
                ignore_changes=["size"],
                custom_timeouts=pulumi.CustomTimeouts(create="5m"),
            ),
        )
        pulumi.export("secret", pulumi.Output.secret("s"))

    run = run_under_mocks(program, stack="test")
    second = run.named("second")
    assert second.parent == run.named("parent").urn, moved(
        "RegisterResourceRequest.parent", "offline/recording.py", "not recorded"
    )
    assert second.dependencies == [run.named("first").urn]
    assert second.ignore_changes == ["size"]
    assert second.custom_timeouts == {"create": "5m"}
    assert (run.outputs["secret"].value, run.outputs["secret"].secret) == ("s", True), moved(
        "the root stack's outputs", "offline/recording.py: exports", "export not found"
    )


@pytest.mark.parametrize("package", sorted(READ_FROM))
def test_the_pinned_version_is_the_one_read(package):
    """pyproject.toml pins exactly the version whose internals were read, and it is the one
    installed: an upgrade has to come through this file."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = project["project"]["dependencies"] + project["dependency-groups"]["dev"]
    pins = [r for r in requirements if re.match(rf"{re.escape(package)}\b(?!-)", r)]
    assert pins == [f"{package}=={READ_FROM[package]}"]
    assert metadata.version(package) == READ_FROM[package]

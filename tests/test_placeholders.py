"""The shipped stacks' example values, which a real run refuses before creating anything."""

import json

import pulumi
import pytest

from config.placeholders import PlaceholderError, placeholder_problems
from offline.harness import RecordingMonitor, run_program, stack_file_config
from tests.config_cases import valid, with_changes
from tests.support.stacks import EXAMPLE_KEY, STACK_FILES

OWN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfTheDeployerForThisStack00000000 me"


def keys(raw) -> list[str]:
    return [problem.key for problem in placeholder_problems(valid(raw))]


def test_the_example_ssh_key_is_a_placeholder_whatever_its_comment(minimal_raw):
    assert "example" in EXAMPLE_KEY
    raw = with_changes(minimal_raw, access={"ssh_public_key": EXAMPLE_KEY.replace("example", "x")})
    assert "metis-llm:access.ssh_public_key" in keys(raw)


def test_a_deployers_own_key_is_not(minimal_raw):
    raw = with_changes(minimal_raw, access={"ssh_public_key": OWN_KEY})
    assert "metis-llm:access.ssh_public_key" not in keys(raw)


@pytest.mark.parametrize(
    "cidr", ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.7/32", "2001:db8::/48"]
)
def test_documentation_blocks_are_placeholders(minimal_raw, cidr):
    raw = with_changes(minimal_raw, router={"allowed_cidrs": ["10.1.0.0/16", cidr]})
    assert "metis-llm:router.allowed_cidrs[1]" in keys(raw)


@pytest.mark.parametrize("cidr", ["10.1.0.0/16", "8.8.8.0/24", "198.51.0.0/16", "2001:db9::/32"])
def test_other_blocks_are_not(minimal_raw, cidr):
    raw = with_changes(
        minimal_raw, access={"ssh_public_key": OWN_KEY}, router={"allowed_cidrs": [cidr]}
    )
    assert keys(raw) == []


def test_documentation_admin_cidrs_are_placeholders_in_ssh_mode(minimal_raw):
    raw = with_changes(
        minimal_raw,
        access={"mode": "ssh", "ssh_public_key": OWN_KEY, "admin_cidrs": ["192.0.2.9/32"]},
    )
    assert keys(raw) == ["metis-llm:router.allowed_cidrs[0]", "metis-llm:access.admin_cidrs[0]"]


def test_the_message_names_each_key_to_set_and_how(minimal_raw):
    message = str(PlaceholderError(placeholder_problems(valid(minimal_raw))))
    assert message.splitlines()[0] == (
        "the stack config still holds example values that cannot work on AWS; set your own "
        "(2 problems):"
    )
    assert "pulumi config set --path metis-llm:access.ssh_public_key" in message
    assert "pulumi config rm --path 'metis-llm:router.allowed_cidrs'" in message
    assert "pulumi config set --path 'metis-llm:router.allowed_cidrs[0]' <your CIDR>" in message


class RealEngineStandIn:
    """What the program sees in a real `pulumi preview` or `up`: an engine that is not
    Pulumi's mock monitor (here it forwards to the recording one)."""

    def __init__(self, monitor: RecordingMonitor) -> None:
        self.monitor = monitor

    def __getattr__(self, name: str):
        return getattr(self.monitor, name)


def real_run(config: dict[str, str], secret_keys: list[str]):
    """Run the program as a real run would see itself; return (run or error, monitor)."""
    monitors: list[RecordingMonitor] = []

    def engine(monitor: RecordingMonitor) -> RealEngineStandIn:
        monitors.append(monitor)
        return RealEngineStandIn(monitor)

    try:
        return run_program(config, secret_keys=secret_keys, engine=engine), monitors[0]
    except pulumi.RunError as error:
        return error, monitors[0]


@pytest.mark.parametrize("stack", sorted(STACK_FILES))
def test_a_real_run_of_the_shipped_stack_stops_before_creating_anything(stack):
    outcome, monitor = real_run(*stack_file_config(STACK_FILES[stack]))
    assert isinstance(outcome, pulumi.RunError)
    message = str(outcome)
    assert message.startswith("the stack config still holds example values")
    assert "metis-llm:access.ssh_public_key" in message
    assert "metis-llm:router.allowed_cidrs[0]" in message
    assert "Traceback" not in message
    assert monitor.registrations == []


def test_a_real_run_with_the_deployers_own_values_goes_ahead():
    config, secret_keys = stack_file_config(STACK_FILES["dev"])
    access = {**json.loads(config["metis-llm:access"]), "ssh_public_key": OWN_KEY}
    router = {**json.loads(config["metis-llm:router"]), "allowed_cidrs": ["192.168.10.0/24"]}
    config |= {"metis-llm:access": json.dumps(access), "metis-llm:router": json.dumps(router)}
    outcome, _ = real_run(config, secret_keys)
    assert not isinstance(outcome, pulumi.RunError), outcome
    assert outcome.of_type("aws:ec2/instance:Instance")

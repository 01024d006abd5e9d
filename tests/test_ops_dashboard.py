"""`python -m ops dashboard STACK`: the router host found by its tags (against moto's EC2:
those tests are marked `e2e`, moto takes seconds to start), and the port forward it opens to
Grafana, per access mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from components.tags import stack_tags
from config.loader import load_settings
from ops.__main__ import main
from ops.dashboard import (
    DashboardError,
    RouterHost,
    find_router_host,
    forward_command,
    host_tag_name,
)
from tests.support.stacks import STACK_FILES, stack_raw_config

REGION = "us-east-1"
ROUTER = RouterHost("i-0123456789abcdef0", "203.0.113.9")


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    from moto import mock_aws  # here: importing moto takes a second the core tier saves

    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def _launch(ec2: Any, stack: str, host: str, *, running: bool = True) -> str:
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = {**stack_tags(stack, "gpu-host"), "Name": host_tag_name(stack, host)}
    (instance,) = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
    )["Instances"]
    if not running:
        ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    return instance["InstanceId"]


@pytest.mark.e2e
def test_the_router_host_is_found_by_its_stack_and_name_tags(ec2):
    wanted = _launch(ec2, "dev", "gpu-1")
    _launch(ec2, "prod", "gpu-1")
    _launch(ec2, "dev", "gpu-2")

    assert find_router_host(ec2, "dev", "gpu-1").instance_id == wanted


@pytest.mark.e2e
def test_a_stopped_router_host_is_not_forwarded_to(ec2):
    _launch(ec2, "dev", "gpu-1", running=False)

    with pytest.raises(DashboardError, match="no running instance tagged Name=metis-llm-dev-gpu-1"):
        find_router_host(ec2, "dev", "gpu-1")


@pytest.mark.e2e
def test_two_running_router_hosts_are_refused(ec2):
    _launch(ec2, "dev", "gpu-1")
    _launch(ec2, "dev", "gpu-1")

    with pytest.raises(DashboardError, match="several running instances"):
        find_router_host(ec2, "dev", "gpu-1")


def test_ssm_mode_forwards_through_session_manager_to_grafanas_port():
    access = load_settings(stack_raw_config("dev")).access

    command = forward_command(access, REGION, ROUTER, 3300)

    assert command[:3] == ["aws", "ssm", "start-session"]
    assert command[command.index("--target") + 1] == ROUTER.instance_id
    assert command[command.index("--document-name") + 1] == "AWS-StartPortForwardingSession"
    assert json.loads(command[command.index("--parameters") + 1]) == {
        "portNumber": ["3000"],
        "localPortNumber": ["3300"],
    }


def test_ssh_mode_forwards_to_grafana_on_the_hosts_loopback_with_the_deploys_options():
    raw = stack_raw_config("dev")
    raw["access"] = {**raw["access"], "mode": "ssh", "admin_cidrs": ["198.51.100.0/24"]}
    access = load_settings(raw).access

    command = forward_command(access, REGION, ROUTER, 3000)

    assert command[0] == "ssh"
    assert command[-4:] == ["-N", "-L", "3000:127.0.0.1:3000", "ubuntu@203.0.113.9"]
    assert f"HostKeyAlias={ROUTER.instance_id}" in command
    assert not any("ProxyCommand" in arg for arg in command)


@pytest.mark.e2e
def test_the_command_prints_the_forward_to_the_deployed_router_host(ec2, capsys):
    instance = _launch(ec2, "dev", "gpu-1")

    assert main(["dashboard", "dev", "--dry-run"]) == 0

    err = capsys.readouterr().err
    assert "http://localhost:3000" in err
    assert f"--target {instance}" in err
    assert "grafana_admin_password --show-secrets --stack dev" in err


@pytest.mark.e2e
def test_the_command_stops_with_one_message_when_nothing_is_deployed(ec2, capsys):
    assert main(["dashboard", "dev", "--dry-run"]) == 2

    assert "no running instance tagged" in capsys.readouterr().err


def test_a_stack_without_monitoring_has_no_dashboard(tmp_path, capsys):
    text = STACK_FILES["dev"].read_text() + "  metis-llm:monitoring: {enabled: false}\n"
    stack_file = tmp_path / "Pulumi.quiet.yaml"
    stack_file.write_text(text)

    assert main(["dashboard", str(stack_file), "--dry-run"]) == 2

    assert "has no monitoring" in capsys.readouterr().err

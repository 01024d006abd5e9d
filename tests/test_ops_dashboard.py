"""`python -m ops dashboard STACK`: the router host found by its tags (against moto's EC2,
on the moto server the ops tests share: those tests are marked `e2e`), and the port forward
it opens to Grafana, per access mode."""

from __future__ import annotations

import json

import pytest

from config.loader import load_settings
from ops.__main__ import main
from ops.dashboard import forward_command, router_host
from ops.fleet import Host
from ops.stack import UsageError
from tests.support import aws
from tests.support.stacks import STACK_FILES, stack_raw_config

ROUTER = Host("gpu-1", "i-0123456789abcdef0", "g6.xlarge", "running", "203.0.113.9")


@pytest.fixture
def ec2(moto: str, monkeypatch: pytest.MonkeyPatch):
    """An empty EC2 (moto), and the environment the command finds it and credentials in."""
    aws.reset(moto)
    for name, value in {**aws.CREDENTIALS, "AWS_ENDPOINT_URL": moto}.items():
        monkeypatch.setenv(name, value)
    return aws.client("ec2", moto)


@pytest.mark.e2e
def test_the_router_host_is_found_by_its_stack_and_name_tags(ec2):
    wanted = aws.launch_host(ec2, "dev", "gpu-1")
    aws.launch_host(ec2, "prod", "gpu-1")
    aws.launch_host(ec2, "dev", "gpu-2")

    assert router_host(ec2, "dev", "gpu-1").instance_id == wanted


@pytest.mark.e2e
def test_a_stopped_router_host_is_not_forwarded_to(ec2):
    ec2.stop_instances(InstanceIds=[aws.launch_host(ec2, "dev", "gpu-1")])

    with pytest.raises(UsageError, match="no running instance of host gpu-1 in stack dev"):
        router_host(ec2, "dev", "gpu-1")


@pytest.mark.e2e
def test_two_running_router_hosts_are_refused(ec2):
    aws.launch_host(ec2, "dev", "gpu-1")
    aws.launch_host(ec2, "dev", "gpu-1")

    with pytest.raises(UsageError, match="several running instances"):
        router_host(ec2, "dev", "gpu-1")


def test_ssm_mode_forwards_through_session_manager_to_grafanas_port():
    access = load_settings(stack_raw_config("dev")).access

    command = forward_command(access, aws.REGION, ROUTER, 3300)

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

    command = forward_command(access, aws.REGION, ROUTER, 3000)

    assert command[0] == "ssh"
    assert command[-4:] == ["-N", "-L", "3000:127.0.0.1:3000", "ubuntu@203.0.113.9"]
    assert f"HostKeyAlias={ROUTER.instance_id}" in command
    assert not any("ProxyCommand" in arg for arg in command)


@pytest.mark.e2e
def test_the_command_prints_the_forward_to_the_deployed_router_host(ec2, capsys):
    instance = aws.launch_host(ec2, "dev", "gpu-1")

    assert main(["dashboard", "dev", "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "http://localhost:3000" in out
    assert f"--target {instance}" in out
    assert "grafana_admin_password --show-secrets --stack dev" in out


@pytest.mark.e2e
def test_the_command_stops_with_one_message_when_nothing_is_deployed(ec2, capsys):
    assert main(["dashboard", "dev", "--dry-run"]) == 2

    assert capsys.readouterr().err.startswith("ops dashboard dev: no running instance of host")


def test_a_stack_without_monitoring_has_no_dashboard(tmp_path, capsys):
    text = STACK_FILES["dev"].read_text() + "  metis-llm:monitoring: {enabled: false}\n"
    stack_file = tmp_path / "Pulumi.quiet.yaml"
    stack_file.write_text(text)

    assert main(["dashboard", str(stack_file), "--dry-run"]) == 2

    assert "stack quiet has no monitoring (metis-llm:monitoring.enabled: false)" in (
        capsys.readouterr().err
    )

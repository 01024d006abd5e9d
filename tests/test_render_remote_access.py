"""How `pulumi up` reaches a host: SSH, direct or through Session Manager. (What the
scripts do on a booting host is in test_boot_scenarios.py.)"""

import pytest

from config.settings import AccessConfig
from renderers.remote_access import (
    docker_host,
    host_checks,
    prune_images_script,
    readiness_script,
    ssh_argv,
    ssh_destination,
    ssh_options,
)
from tests.support.shellcheck import shellcheck

KEY = "ssh-ed25519 AAAAexample"
SSM = AccessConfig(mode="ssm", ssh_public_key=KEY)
SSH = AccessConfig(mode="ssh", ssh_public_key=KEY, admin_cidrs=["198.51.100.7/32"])
INSTANCE = "i-0abc"


def test_ssm_mode_tunnels_ssh_through_session_manager_in_the_stacks_region():
    proxy = [o for o in ssh_options(SSM, "eu-west-1", INSTANCE) if o.startswith("ProxyCommand=")]
    assert proxy == [
        "ProxyCommand=aws ssm start-session --target %h --document-name AWS-StartSSHSession "
        "--parameters portNumber=%p --region eu-west-1"
    ]


def test_ssm_mode_addresses_the_instance_by_id():
    assert ssh_destination(SSM, INSTANCE, "203.0.113.5") == "ubuntu@i-0abc"


def test_ssh_mode_connects_directly_to_the_public_address():
    assert not any(o.startswith("ProxyCommand") for o in ssh_options(SSH, "eu-west-1", INSTANCE))
    assert ssh_destination(SSH, INSTANCE, "203.0.113.5") == "ubuntu@203.0.113.5"


def test_ssh_never_prompts_and_accepts_only_new_host_keys():
    options = ssh_options(SSM, "us-east-1", INSTANCE)
    assert "BatchMode=yes" in options
    assert "StrictHostKeyChecking=accept-new" in options


@pytest.mark.parametrize("access", [SSM, SSH])
def test_the_known_hosts_entry_is_keyed_to_the_instance(access):
    assert "HostKeyAlias=i-0abc" in ssh_options(access, "us-east-1", INSTANCE)


def test_an_identity_file_is_used_alone_when_given():
    access = AccessConfig(mode="ssm", ssh_public_key=KEY, ssh_identity_file="~/.ssh/metis")
    options = ssh_options(access, "us-east-1", INSTANCE)
    assert "IdentityFile=~/.ssh/metis" in options
    assert "IdentitiesOnly=yes" in options


def test_the_ssh_argv_is_ssh_then_the_options_then_the_destination():
    argv = ssh_argv(SSH, "us-east-1", INSTANCE, "203.0.113.5")
    assert argv == ["ssh", *ssh_options(SSH, "us-east-1", INSTANCE), "ubuntu@203.0.113.5"]


def test_the_docker_host_is_an_ssh_url():
    assert docker_host("ubuntu@i-0abc") == "ssh://ubuntu@i-0abc"


@pytest.mark.lint
@pytest.mark.parametrize("access", [SSM, SSH])
@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_readiness_script_passes_shellcheck(access, role, tmp_path):
    argv = ssh_argv(access, "us-east-1", INSTANCE, "203.0.113.5")
    result = shellcheck("#!/bin/bash\n" + readiness_script(argv, role), tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.lint
def test_the_prune_script_passes_shellcheck(tmp_path):
    argv = ssh_argv(SSM, "us-east-1", INSTANCE, "203.0.113.5")
    result = shellcheck("#!/bin/bash\n" + prune_images_script(argv), tmp_path)
    assert result.returncode == 0, result.stdout


def test_gpu_hosts_check_docker_and_the_gpus_and_any_failure_fails():
    assert host_checks("gpu") == "docker info --format 'docker {{.ServerVersion}}' && nvidia-smi -L"


def test_cpu_hosts_check_docker_only():
    assert host_checks("cpu") == "docker info --format 'docker {{.ServerVersion}}'"

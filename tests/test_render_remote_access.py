"""How `pulumi up` reaches the hosts' Docker: SSH, direct or through Session Manager."""

from config.settings import AccessConfig
from renderers.remote_access import docker_host, readiness_script, ssh_destination, ssh_options
from tests.test_render_cloud_init import shellcheck

KEY = "ssh-ed25519 AAAAexample"
SSM = AccessConfig(mode="ssm", ssh_public_key=KEY)
SSH = AccessConfig(mode="ssh", ssh_public_key=KEY, admin_cidrs=["198.51.100.7/32"])


def test_ssm_mode_tunnels_ssh_through_session_manager_in_the_stacks_region():
    proxy = [o for o in ssh_options(SSM, "eu-west-1") if o.startswith("ProxyCommand=")]
    assert proxy == [
        "ProxyCommand=aws ssm start-session --target %h --document-name AWS-StartSSHSession "
        "--parameters portNumber=%p --region eu-west-1"
    ]


def test_ssm_mode_addresses_the_instance_by_id():
    assert ssh_destination(SSM, "i-0abc", "203.0.113.5") == "ubuntu@i-0abc"


def test_ssh_mode_connects_directly_to_the_public_address():
    assert not any(o.startswith("ProxyCommand") for o in ssh_options(SSH, "eu-west-1"))
    assert ssh_destination(SSH, "i-0abc", "203.0.113.5") == "ubuntu@203.0.113.5"


def test_ssh_never_prompts_and_accepts_only_new_host_keys():
    options = ssh_options(SSM, "us-east-1")
    assert "BatchMode=yes" in options
    assert "StrictHostKeyChecking=accept-new" in options


def test_an_identity_file_is_used_alone_when_given():
    access = AccessConfig(mode="ssm", ssh_public_key=KEY, ssh_identity_file="~/.ssh/metis")
    options = ssh_options(access, "us-east-1")
    assert "IdentityFile=~/.ssh/metis" in options
    assert "IdentitiesOnly=yes" in options


def test_the_docker_host_is_an_ssh_url():
    assert docker_host("ubuntu@i-0abc") == "ssh://ubuntu@i-0abc"


def test_readiness_script_passes_shellcheck(tmp_path):
    for access in (SSM, SSH):
        script = "#!/bin/bash\n" + readiness_script(access, "us-east-1", "ubuntu@i-0abc", "gpu")
        result = shellcheck(script, tmp_path)
        assert result.returncode == 0, result.stdout


def test_gpu_readiness_waits_for_bootstrap_and_checks_docker_and_gpus():
    script = readiness_script(SSM, "us-east-1", "ubuntu@i-0abc", "gpu")
    for check in ("cloud-init status --wait", "docker info", "nvidia-smi -L"):
        assert check in script


def test_cpu_readiness_does_not_look_for_gpus():
    assert "nvidia-smi" not in readiness_script(SSM, "us-east-1", "ubuntu@i-0abc", "cpu")

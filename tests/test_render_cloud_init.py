"""First-boot scripts: valid shell, per host role, and free of per-model settings."""

import re

import pytest

from renderers.cloud_init import render_cloud_init
from tests.support.shellcheck import shellcheck


@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_every_placeholder_is_filled_in(role):
    assert not re.findall(r"@[A-Z_]+@", render_cloud_init(role))


@pytest.mark.lint
@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_bootstrap_script_passes_shellcheck(role, tmp_path):
    result = shellcheck(render_cloud_init(role), tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.lint
def test_shellcheck_catches_a_broken_script(tmp_path):
    assert shellcheck("#!/bin/bash\necho $undefined_thing[\n", tmp_path).returncode != 0


def test_gpu_bootstrap_checks_driver_docker_and_toolkit_of_the_ami():
    script = render_cloud_init("gpu")
    for check in ("nvidia-smi", "docker --version", "nvidia-ctk --version"):
        assert check in script
    assert "apt-get install" not in script


def test_cpu_bootstrap_installs_docker_waiting_for_apts_lock():
    script = render_cloud_init("cpu")
    assert "apt-get -o DPkg::Lock::Timeout=600 install -y -q docker.io" in script
    assert "nvidia" not in script


@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_the_completion_marker_is_the_bootstrap_s_last_step(role):
    steps = [
        line
        for line in render_cloud_init(role).splitlines()
        if line and not line.startswith(("#", "echo"))
    ]
    assert steps[-1] == "date -u +%Y-%m-%dT%H:%M:%SZ > /var/lib/metis-llm/bootstrap-done"


@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_the_bootstrap_restarts_the_ssm_agent_before_it_completes(role):
    script = render_cloud_init(role)
    restart = script.index('systemctl restart "$unit"')
    assert "snap.amazon-ssm-agent.amazon-ssm-agent.service amazon-ssm-agent.service" in script
    assert restart < script.index("> /var/lib/metis-llm/bootstrap-done")


@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_bootstrap_rotates_docker_logs_without_dropping_existing_daemon_settings(role):
    script = render_cloud_init(role)
    assert '"max-size": "50m"' in script
    assert "json.loads(path.read_text()) if path.exists()" in script


def test_gpu_bootstrap_creates_the_model_cache_directory():
    assert "install -d -m 0755 /var/lib/metis-llm/hf-cache" in render_cloud_init("gpu")


@pytest.mark.parametrize("role", ["gpu", "cpu"])
def test_bootstrap_is_strict_and_logged(role):
    script = render_cloud_init(role)
    assert script.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in script
    assert "/var/log/metis-llm-bootstrap.log" in script

"""First boots, scripted: the rendered bootstrap and readiness check run unchanged against
fake hosts (tests/support/boot) through SSH refusals, a late docker group, a degraded
cloud-init, failed bootstraps, apt locks, a replaced host, an SSM agent in back-off."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from config.settings import AccessConfig
from renderers.cloud_init import BOOTSTRAP_DONE, DOCKER_DAEMON_CONFIG, render_cloud_init
from renderers.remote_access import (
    READINESS_BUDGET_SECONDS,
    host_checks,
    prune_images_script,
    readiness_script,
    ssh_argv,
)
from tests.support.boot import AptLock, BootWorld, HostSpec, Outcome

pytestmark = pytest.mark.e2e

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample"
SSH = AccessConfig(mode="ssh", ssh_public_key=KEY, admin_cidrs=["198.51.100.7/32"])
SSM = AccessConfig(mode="ssm", ssh_public_key=KEY)
ROUTER_HOST = HostSpec(role="cpu", gpus=(), sshd_from=20.0, bootstrap_starts_at=35.0)
"""Plain Ubuntu boots faster than the GPU AMI; its bootstrap installs Docker."""


@pytest.fixture
def world(tmp_path: Path) -> BootWorld:
    return BootWorld(tmp_path / "world")


def argv_for(host: HostSpec, access: AccessConfig = SSH) -> list[str]:
    return ssh_argv(access, "us-east-1", host.instance_id, host.address)


def deploy(world: BootWorld, host: HostSpec, access: AccessConfig = SSH) -> Outcome:
    """Launch a host, let its first boot run, then run the readiness check on it."""
    world.add(host)
    world.boot(host.instance_id, render_cloud_init(host.role))
    return world.run_locally(readiness_script(argv_for(host, access), host.role))


def test_a_host_refusing_ssh_for_minutes_is_waited_for(world):
    ready = deploy(world, HostSpec(sshd_from=200.0, bootstrap_starts_at=220.0))
    assert ready.returncode == 0, ready.stderr
    assert ready.finished_at > 220
    assert ready.stdout.splitlines() == [
        "docker 27.5.1",
        "GPU 0: NVIDIA L4 (UUID: GPU-00000000-0000-0000-0000-000000000000)",
    ]


def test_docker_is_checked_in_a_session_opened_after_ubuntu_joined_the_docker_group(world):
    ready = deploy(world, ROUTER_HOST)
    (joined,) = [
        e["t"] for e in world.events(ROUTER_HOST.instance_id) if e["kind"] == "group_added"
    ]
    assert ROUTER_HOST.sshd_from < joined, "the scenario needs sshd up before the group exists"
    assert ready.returncode == 0, ready.stderr
    assert ready.stdout == "docker 27.5.1\n"


def test_a_docker_failure_fails_the_check_even_when_the_gpus_answer(world):
    host = HostSpec(without=frozenset({"docker"}))
    world.add(host)
    checked = world.run_locally(shlex.join([*argv_for(host), host_checks("gpu")]), at=120.0)
    assert checked.returncode == 127
    assert "docker: command not found" in checked.stderr
    assert "GPU 0" not in checked.stdout


def test_a_degraded_cloud_init_with_a_completed_bootstrap_is_ready(world):
    ready = deploy(world, HostSpec(cloud_init_warnings=True))
    assert ready.returncode == 0, ready.stderr
    assert ready.stdout.startswith("docker 27.5.1")


def test_a_failed_bootstrap_fails_with_the_tail_of_its_log(world):
    ready = deploy(world, HostSpec(without=frozenset({"nvidia-ctk"})))
    assert ready.returncode != 0
    assert (
        f"the bootstrap failed: cloud-init finished (status exit 1) without {BOOTSTRAP_DONE}"
        in ready.stderr
    )
    assert "last lines of /var/log/metis-llm-bootstrap.log:" in ready.stderr
    assert "part-001: line 12: nvidia-ctk: command not found" in ready.stderr


def test_a_bootstrap_still_running_when_the_budget_ends_fails_saying_so(world):
    ready = deploy(world, HostSpec(bootstrap_starts_at=READINESS_BUDGET_SECONDS + 100))
    assert ready.returncode != 0
    assert "the bootstrap was still running when the readiness budget ran out" in ready.stderr
    assert ready.finished_at <= 15 + READINESS_BUDGET_SECONDS + 5


def test_the_bootstrap_waits_for_a_dpkg_lock_held_by_unattended_upgrades(world):
    host = HostSpec(
        role="cpu",
        gpus=(),
        dpkg_lock=AptLock("unattended-upgr", until=300.0),
        lists_lock=AptLock("apt.systemd.dai", until=150.0),
    )
    world.add(host)
    booted = world.boot(host.instance_id, render_cloud_init("cpu"))
    assert booted.returncode == 0, booted.stderr
    assert "Waiting for cache lock" in booted.stdout
    (installed,) = [
        e["t"] for e in world.events(host.instance_id) if e["kind"] == "docker_installed"
    ]
    assert installed >= 300


def test_a_dpkg_lock_held_past_the_wait_fails_with_apts_message(world):
    host = HostSpec(role="cpu", gpus=(), dpkg_lock=AptLock("unattended-upgr", until=2000.0))
    ready = deploy(world, host)
    assert ready.returncode != 0
    assert "It is held by process 2311 (unattended-upgr)" in ready.stderr
    assert "Unable to acquire the dpkg frontend lock" in ready.stderr


def test_the_bootstrap_keeps_the_gpu_amis_nvidia_runtime_and_adds_log_rotation(world):
    host = HostSpec()
    world.add(host)
    world.boot(host.instance_id, render_cloud_init("gpu"))
    daemon = json.loads(world.host_file(host.instance_id, DOCKER_DAEMON_CONFIG).read_text())
    assert daemon["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"
    assert daemon["log-opts"] == {"max-size": "50m", "max-file": "5"}


def test_a_host_replaced_at_the_same_address_is_a_new_host_to_ssh(world):
    first = HostSpec(instance_id="i-0aaaaaaaaaaaaaaa1", address="203.0.113.10")
    assert deploy(world, first).returncode == 0
    replacement = HostSpec(instance_id="i-0bbbbbbbbbbbbbbb2", address="203.0.113.10")
    ready = deploy(world, replacement)
    assert ready.returncode == 0, ready.stderr
    known = (world.home / ".ssh/metis-llm_known_hosts").read_text().splitlines()
    assert [line.split()[0] for line in known] == [first.instance_id, replacement.instance_id]


def test_a_host_key_kept_under_the_address_refuses_the_replacement(world):
    """What `StrictHostKeyChecking=accept-new` does with entries keyed to the address."""
    first = HostSpec(instance_id="i-0aaaaaaaaaaaaaaa1", address="203.0.113.10")
    replacement = HostSpec(instance_id="i-0bbbbbbbbbbbbbbb2", address="203.0.113.10")
    keyed_to_address = shlex.join([*_without_option(argv_for(first), "HostKeyAlias"), "true"])
    world.add(first)
    assert world.run_locally(keyed_to_address, at=120).returncode == 0
    world.add(replacement)
    refused = world.run_locally(keyed_to_address, at=120)
    assert refused.returncode == 255
    assert "Host key for 203.0.113.10 has changed" in refused.stderr
    assert refused.stderr.endswith("Host key verification failed.\n")


def test_a_host_that_never_answers_fails_with_the_last_ssh_error(world):
    ready = deploy(world, HostSpec(reachable=False))
    assert ready.returncode == 1
    assert ready.stderr.splitlines() == [
        "ubuntu@203.0.113.10 did not answer over SSH within 30 minutes. Last SSH error:",
        "ssh: connect to host 203.0.113.10 port 22: Connection timed out",
    ]
    assert ready.finished_at >= 15 + READINESS_BUDGET_SECONDS


def test_an_ssm_agent_in_back_off_is_restarted_by_the_bootstrap(world):
    host = HostSpec(ssm_backs_off=True)
    ready = deploy(world, host, SSM)
    assert ready.returncode == 0, ready.stderr
    assert ready.finished_at < 5 * 60, "well before the agent's own 25-minute retry"


def test_a_session_dropped_when_the_agent_restarts_is_opened_again(world):
    ready = deploy(world, HostSpec(ssm_registers_at=40.0), SSM)
    assert "Connection to i-0a1b2c3d4e5f60001 closed by remote host." in ready.stderr
    assert ready.returncode == 0, ready.stderr


def test_the_image_prune_removes_only_images_no_container_runs(world):
    host = HostSpec()
    world.add(host)
    world.boot(host.instance_id, render_cloud_init("gpu"))
    world.set_images(
        host.instance_id,
        [
            {"name": "vllm/vllm-openai:v0.31.0", "gb": 28, "used": False},
            {"name": "vllm/vllm-openai:v0.32.0", "gb": 28, "used": True},
        ],
    )
    pruned = world.run_locally(prune_images_script(argv_for(host)), at=600)
    assert pruned.returncode == 0, pruned.stderr
    assert "Total reclaimed space: 28GB" in pruned.stdout
    assert [image["name"] for image in world.images(host.instance_id)] == [
        "vllm/vllm-openai:v0.32.0"
    ]


def _without_option(argv: list[str], name: str) -> list[str]:
    """An ssh argv with one `-o Name=...` pair left out."""
    kept: list[str] = []
    for arg in argv:
        if arg.startswith(f"{name}="):
            kept.pop()
            continue
        kept.append(arg)
    return kept

"""The boot harness's fakes play what their real programs do (tests/support/boot/fakes/
names each source): driven here one command at a time, at chosen virtual moments."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from config.settings import AccessConfig
from renderers.cloud_init import render_cloud_init
from renderers.remote_access import ssh_argv
from tests.support.boot import AptLock, BootWorld, HostSpec

pytestmark = pytest.mark.e2e

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample"
SSH = AccessConfig(mode="ssh", ssh_public_key=KEY, admin_cidrs=["198.51.100.7/32"])
SSM = AccessConfig(mode="ssm", ssh_public_key=KEY)


@pytest.fixture
def world(tmp_path: Path) -> BootWorld:
    return BootWorld(tmp_path / "world")


def on_host(host: HostSpec, command: str, access: AccessConfig = SSH) -> str:
    """A local script running one remote command over the project's ssh argv."""
    argv = ssh_argv(access, "us-east-1", host.instance_id, host.address)
    return shlex.join([*argv, command])


def booted(world: BootWorld, host: HostSpec) -> HostSpec:
    world.add(host)
    world.boot(host.instance_id, render_cloud_init(host.role))
    return host


def test_a_session_opened_before_usermod_cannot_use_docker_and_a_later_one_can(world):
    host = booted(world, HostSpec())
    (joined,) = [e["t"] for e in world.events(host.instance_id) if e["kind"] == "group_added"]
    script = on_host(host, "docker info --format x")
    early = world.run_locally(f"{script}; sleep 100; {script}", at=joined - 5)
    assert early.stderr.count("connect: permission denied") == 1
    assert early.stdout == "docker 27.5.1\n"


def test_cloud_init_status_wait_exits_as_cloud_init_23_4(world):
    done = booted(world, HostSpec(instance_id="i-0000000000000000d", address="203.0.113.1"))
    degraded = booted(
        world,
        HostSpec(
            instance_id="i-0000000000000000e", address="203.0.113.2", cloud_init_warnings=True
        ),
    )
    failed = booted(
        world,
        HostSpec(
            instance_id="i-0000000000000000f",
            address="203.0.113.3",
            without=frozenset({"nvidia-smi"}),
        ),
    )
    codes = {
        host.instance_id: world.run_locally(on_host(host, "cloud-init status --wait"), at=60)
        for host in (done, degraded, failed)
    }
    assert [(o.returncode, o.stdout.split()[-1]) for o in codes.values()] == [
        (0, "done"),
        (2, "done"),
        (1, "error"),
    ]


def test_timeout_stops_a_cloud_init_wait_with_124_at_its_deadline(world):
    host = booted(world, HostSpec(bootstrap_starts_at=1000.0))
    waited = world.run_locally(on_host(host, "timeout 100 cloud-init status --wait"), at=100)
    assert waited.returncode == 124
    assert 200 <= waited.finished_at < 210


def test_apt_get_install_fails_at_once_on_a_held_dpkg_lock_unless_told_to_wait(world):
    host = HostSpec(role="cpu", gpus=(), dpkg_lock=AptLock("unattended-upgr", until=500.0))
    world.add(host)
    script = "#!/bin/bash\nset -e\napt-get update -q\n{}apt-get {} install -y docker.io\n"
    refused = world.boot(host.instance_id, script.format("", ""))
    assert refused.returncode == 100
    assert refused.stderr.splitlines()[-1] == (
        "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), "
        "is another process using it?"
    )
    assert refused.finished_at < 100
    waited = world.boot(host.instance_id, script.format("", "-o DPkg::Lock::Timeout=600"))
    assert waited.returncode == 0
    assert waited.finished_at > 500


def test_apt_get_update_does_not_wait_for_the_lists_lock_whatever_dpkg_option(world):
    host = HostSpec(role="cpu", gpus=(), lists_lock=AptLock("apt.systemd.dai", until=500.0))
    world.add(host)
    outcome = world.boot(
        host.instance_id, "#!/bin/bash\napt-get -o DPkg::Lock::Timeout=600 update -q\n"
    )
    assert outcome.returncode == 100
    assert outcome.stderr.splitlines() == [
        "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 2311 "
        "(apt.systemd.dai)",
        "N: Be aware that removing the lock file is not a solution and may break your system.",
        "E: Unable to lock directory /var/lib/apt/lists/",
    ]


def test_an_unregistered_ssm_target_fails_as_the_aws_cli_and_ssh_report_it(world):
    host = booted(world, HostSpec(ssm_backs_off=True))
    refused = world.run_locally(on_host(host, "true", SSM), at=30)
    assert refused.returncode == 255
    assert refused.stderr.splitlines() == [
        "",
        "An error occurred (TargetNotConnected) when calling the StartSession operation: "
        "i-0a1b2c3d4e5f60001 is not connected.",
        "kex_exchange_identification: Connection closed by remote host",
        "Connection closed by UNKNOWN port 65535",
    ]


def test_files_the_bootstrap_writes_appear_once_it_finished(world):
    host = booted(world, HostSpec())
    look = on_host(host, "test -f /var/lib/metis-llm/bootstrap-done")
    assert world.run_locally(look, at=50).returncode == 1
    assert world.run_locally(look, at=100).returncode == 0


def test_the_harness_refuses_a_script_naming_an_unmapped_host_path(world):
    host = HostSpec()
    world.add(host)
    with pytest.raises(AssertionError, match="/etc/hosts"):
        world.boot(host.instance_id, "#!/bin/bash\necho 10.0.0.1 x >> /etc/hosts\n")

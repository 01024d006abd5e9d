"""Building single components under the mocks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi

from components.host import Host, HostArgs
from config.settings import Settings
from offline.harness import ProgramRun, Registration, reveal, run_under_mocks


def build(program) -> ProgramRun:
    """Run a function that creates components, exporting nothing, under the mocks."""
    return run_under_mocks(program, stack="test")


def host_for(settings: Settings, host: str = "gpu-1", **overrides: Any) -> Host:
    """A Host component for one host of the settings, with plain network inputs."""
    config = settings.hosts[host]
    args = HostArgs(
        host=host,
        config=config,
        instance=settings.catalog.instances[config.instance_type],
        access=settings.access,
        stack="test",
        subnet_id="subnet-0123456789abcdef0",
        placement_pinned=False,
        security_group_ids=["sg-0123456789abcdef0"],
        key_name="deployer",
        instance_profile="ssm-profile",
        region="eu-west-1",
    )
    return Host(f"h-{host}", dataclasses.replace(args, **overrides))


def inputs(registration: Registration) -> dict[str, Any]:
    """A registration's inputs with secret wrappers removed."""
    return reveal(registration.inputs)


def export(name: str, value: pulumi.Input[Any]) -> None:
    pulumi.export(name, value)

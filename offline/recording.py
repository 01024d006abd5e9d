"""What the program registers and exports, recorded from Pulumi's mock engine: the one place
the offline harness reaches into Pulumi's internals.

Pulumi has no public API for these: `pulumi.runtime.Mocks.new_resource` sees a resource's
type, name and inputs, not its parent, dependencies, `ignore_changes`, `replace_on_changes`
or custom timeouts, so the engine's side of the gRPC protocol (a `MockMonitor` subclass
reading `RegisterResourceRequest`) records them; and a stack's exports are read off the root
stack resource. pyproject.toml pins pulumi exactly for this, and
tests/test_pulumi_internals.py fails naming the internal when an upgrade moves one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc


@dataclass
class Registration:
    """One resource as the program registered it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    """As the engine received them: secret values still wrapped (see `is_secret`)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """What the mocks answered: the inputs and what the cloud would compute (ids, ARNs)."""
    resource_id: str = ""
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """Only the operations given a timeout: create, update, delete."""


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, also keeping each registration's parent, provider and inputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):  # noqa: N802 (the engine's RPC name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=rpc.deserialize_properties(request.object),
                    outputs=rpc.deserialize_properties(response.object),
                    resource_id=response.id,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    ignore_changes=list(request.ignoreChanges),
                    replace_on_changes=list(request.replaceOnChanges),
                    custom_timeouts=_custom_timeouts(request),
                )
            )
        return response


def _custom_timeouts(request) -> dict[str, str]:
    timeouts = request.customTimeouts
    given = {op: getattr(timeouts, op) for op in ("create", "update", "delete")}
    return {op: value for op, value in given.items() if value}


def exports() -> dict[str, Any]:
    """The root stack's exports by name, as `pulumi.export` recorded them (Outputs or plain
    values)."""
    root = pulumi.runtime.get_root_resource()
    return dict(root.outputs) if root is not None else {}  # type: ignore[attr-defined]

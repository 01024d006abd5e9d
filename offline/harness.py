"""Run the real program (`__main__.py`) under the mocks and collect what it registered.

Used by the tests and by the offline plan: no Pulumi CLI, no credentials, no network.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from config.errors import NAMESPACE
from offline.mocks import CloudMocks
from offline.stackfile import read_stack_file

PROGRAM = Path(__file__).resolve().parent.parent / "__main__.py"


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


@dataclass(frozen=True)
class StackOutput:
    value: Any
    secret: bool


@dataclass
class ProgramRun:
    registrations: list[Registration]
    outputs: dict[str, StackOutput]

    def of_type(self, resource_type: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == resource_type]

    def named(self, name: str) -> Registration:
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def reveal(value: Any) -> Any:
    """An input value with every secret wrapper removed."""
    if rpc.is_rpc_secret(value):
        return reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


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


def stack_file_config(stack_file: Path) -> tuple[dict[str, str], list[str]]:
    """A stack file's `config:` as the engine passes it to a program: fully qualified keys,
    structured values as JSON text. Secrets (`secure:` values, which only the CLI can
    decrypt) are replaced by a placeholder and listed as secret keys."""
    config = read_stack_file(stack_file)
    values = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in config.values.items()
    }
    return values, sorted(config.secret_keys)


def resolve(output: Any) -> StackOutput:
    """The value and secretness of an output, failing if it never became known: under
    preview an unknown output would silently skip every check made on it."""
    output = pulumi.Output.from_input(output)
    if not _sync_await(output.is_known()):
        raise AssertionError("an output stayed unknown: its apply callbacks never ran")
    return StackOutput(value=_sync_await(output.future()), secret=_sync_await(output.is_secret()))


def _ensure_open_event_loop() -> None:
    """Pulumi's runtime awaits on the current event loop; a caller that ran `asyncio.run`
    (or closed its loop) leaves none behind."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def run_under_mocks(
    program: Callable[[], object],
    config: Mapping[str, str] | None = None,
    *,
    secret_keys: Sequence[str] = (),
    stack: str = "dev",
    mocks: CloudMocks | None = None,
    engine: Callable[[RecordingMonitor], Any] | None = None,
) -> ProgramRun:
    """Run a program function under the mocks (`preview=False`) with a stack's config in
    engine form (qualified keys, JSON text values); return its registrations and exports.

    `mocks` answers like a given AWS (default: every zone offers every type, us-east-1);
    `engine` wraps the recording monitor in what the program should talk to (tests use it
    to stand in for a real engine)."""
    _ensure_open_event_loop()
    monitor = RecordingMonitor(mocks or CloudMocks())
    # A fresh root stack per run: exports of an earlier run must not leak into this one.
    pulumi.runtime.settings.reset_options(project=NAMESPACE, stack=stack)
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=NAMESPACE,
        stack=stack,
        preview=False,
        monitor=engine(monitor) if engine else monitor,
    )
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    _sync_await(run_pulumi_func(program))
    root = pulumi.runtime.settings.get_root_resource()
    outputs = {name: resolve(output) for name, output in root.outputs.items()}
    return ProgramRun(registrations=monitor.registrations, outputs=outputs)


def run_program(config: Mapping[str, str], **options: Any) -> ProgramRun:
    """Run the real `__main__.py` under the mocks."""
    return run_under_mocks(
        lambda: runpy.run_path(str(PROGRAM), run_name="__main__"), config, **options
    )


def run_stack_file(stack_file: Path) -> ProgramRun:
    """Run the program with a stack file's config, as `pulumi up` on that stack would."""
    config, secret_keys = stack_file_config(stack_file)
    return run_program(config, secret_keys=secret_keys, stack=stack_name(stack_file))


def stack_name(stack_file: Path) -> str:
    """The stack a file configures, as Pulumi names it: Pulumi.<stack>.yaml."""
    return stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")

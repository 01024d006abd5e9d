"""Run the real program (`__main__.py`) under the mocks and collect what it registered.

Used by the tests and by the offline plan: no Pulumi CLI, no credentials, no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import runpy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from config.project import NAMESPACE
from offline.mocks import CloudMocks
from offline.recording import RecordingMonitor, Registration, exports
from offline.stackfile import StackFileConfig, read_stack_file, stack_name_of

PROGRAM = Path(__file__).resolve().parent.parent / "__main__.py"
CONFIG_ENV = "PULUMI_CONFIG"
SECRET_KEYS_ENV = "PULUMI_CONFIG_SECRET_KEYS"


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


def stack_file_config(stack_file: Path) -> tuple[dict[str, str], list[str]]:
    """A stack file's `config:` as the engine passes it to a program: fully qualified keys,
    structured values as JSON text. Secrets (`secure:` values, which only the CLI can
    decrypt) are replaced by a placeholder and listed as secret keys."""
    config = read_stack_file(stack_file)
    return config.engine_values, sorted(config.secret_keys)


def resolve(output: Any) -> StackOutput:
    """The value and secretness of an output, failing if it never became known: under
    preview an unknown output would silently skip every check made on it."""
    output = pulumi.Output.from_input(output)
    wait = _open_event_loop().run_until_complete
    if not wait(output.is_known()):
        raise AssertionError("an output stayed unknown: its apply callbacks never ran")
    return StackOutput(value=wait(output.future()), secret=wait(output.is_secret()))


def _open_event_loop() -> asyncio.AbstractEventLoop:
    """The current event loop, which Pulumi's runtime awaits on; a new one where a caller
    ran `asyncio.run` (or closed its loop) and left none behind."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


@contextlib.contextmanager
def _engine_environment(config: Mapping[str, str], secret_keys: Sequence[str]) -> Iterator[None]:
    """The config as the Python language host hands it to a program: the PULUMI_CONFIG and
    PULUMI_CONFIG_SECRET_KEYS environment, which its exec script loads with
    `set_all_config` (docs/reference/stack-config.md). The environment is restored after."""
    given = {CONFIG_ENV: json.dumps(dict(config)), SECRET_KEYS_ENV: json.dumps(list(secret_keys))}
    previous = {name: os.environ.get(name) for name in given}
    os.environ.update(given)
    try:
        pulumi.runtime.set_all_config(
            pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
        )
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
    _open_event_loop()
    monitor = RecordingMonitor(mocks or CloudMocks())
    # A fresh root stack per run: exports of an earlier run must not leak into this one.
    pulumi.runtime.reset_options(project=NAMESPACE, stack=stack)
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=NAMESPACE,
        stack=stack,
        preview=False,
        monitor=engine(monitor) if engine else monitor,
    )

    def run() -> None:  # `test` awaits what it returns: not the program's module globals
        program()

    with _engine_environment(config or {}, secret_keys):
        pulumi.runtime.test(run)()
    outputs = {name: resolve(output) for name, output in exports().items()}
    return ProgramRun(registrations=monitor.registrations, outputs=outputs)


def run_program(config: Mapping[str, str], **options: Any) -> ProgramRun:
    """Run the real `__main__.py` under the mocks."""
    return run_under_mocks(
        lambda: runpy.run_path(str(PROGRAM), run_name="__main__"), config, **options
    )


def run_stack_config(config: StackFileConfig, stack: str) -> ProgramRun:
    """Run the program with a stack file's config, as `pulumi up` on that stack would."""
    return run_program(config.engine_values, secret_keys=sorted(config.secret_keys), stack=stack)


def run_stack_file(stack_file: Path) -> ProgramRun:
    """Run the program with a stack file's config, as `pulumi up` on that stack would."""
    return run_stack_config(read_stack_file(stack_file), stack_name_of(stack_file))

"""The project's stack files as tests use them: their paths, their `metis-llm:*` values, and
the program run on each under the mocks (once per test session)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from offline.harness import ProgramRun, run_stack_file
from offline.stackfile import namespace_values

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = {"dev": ROOT / "Pulumi.dev.yaml", "prod": ROOT / "Pulumi.prod.yaml"}
EXAMPLE_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP/3uSePucsLDiJ348m/ruKvaB5OxJKEWkLHM58cSmYn example"
)


def stack_raw_config(stack: str) -> dict[str, Any]:
    """A stack file's `metis-llm:*` values, namespace stripped: what `load_settings` takes."""
    return namespace_values(STACK_FILES[stack])


_runs: dict[str, ProgramRun] = {}


def stack_run(stack: str) -> ProgramRun:
    """The program run under mocks with a stack file (once per test session)."""
    if stack not in _runs:
        _runs[stack] = run_stack_file(STACK_FILES[stack])
    return _runs[stack]

"""Stack files for the offline plan: finding one, validating it, reading it at a git ref."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from config.errors import NAMESPACE
from config.loader import load_settings
from config.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


class PlanError(Exception):
    """A problem with what the plan was asked to read (no stack file, unknown git ref):
    reported as one message, without a traceback."""


def find_stack_file(stack: str) -> Path:
    """`dev` -> the project's Pulumi.dev.yaml; anything that is a file is taken as is."""
    given = Path(stack)
    if given.is_file():
        return given
    named = PROJECT_DIR / f"Pulumi.{stack}.yaml"
    if named.is_file():
        return named
    raise PlanError(f"no stack file {stack!r}: neither a file nor {named}")


def display_path(path: Path) -> Path:
    """A path relative to the working directory when it lies below it: shorter in reports."""
    resolved = path.resolve()
    return resolved.relative_to(Path.cwd()) if resolved.is_relative_to(Path.cwd()) else path


def namespace_values(stack_file: Path) -> dict[str, Any]:
    """A stack file's `metis-llm:*` values, namespace stripped: what `load_settings` takes."""
    source = str(stack_file)
    try:
        document = yaml.safe_load(stack_file.read_text()) or {}
    except yaml.YAMLError as error:
        raise PlanError(f"{source} is not valid YAML: {error}") from None
    config = (document.get("config") or {}) if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise PlanError(f"{source}: `config:` is not a mapping of keys to values")
    prefix = f"{NAMESPACE}:"
    return {
        key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)
    }


def load_stack_settings(stack_file: Path) -> Settings:
    """The stack's validated settings, or the ConfigError the program itself would stop on
    (the program receives the same values, as JSON text, through the engine)."""
    raw = namespace_values(stack_file)
    return load_settings(raw, has_hf_token="hf_token" in raw)


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(directory), *args], capture_output=True, text=True, check=False
    )


def stack_file_at(stack_file: Path, ref: str) -> str | None:
    """The stack file's text at a git ref, or None when the file did not exist there
    (a stack the change adds)."""
    directory, path = stack_file.resolve().parent, f"./{stack_file.name}"
    if _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode:
        raise PlanError(f"{ref!r} is not a commit of the git repository of {stack_file}")
    if _git(directory, "cat-file", "-e", f"{ref}:{path}").returncode:
        return None
    shown = _git(directory, "show", f"{ref}:{path}")
    if shown.returncode:
        raise PlanError(f"git show {ref}:{path} failed: {shown.stderr.strip()}")
    return shown.stdout

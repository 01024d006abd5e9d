"""Stack files for the offline plan: finding one, reading it safely, validating it, reading
it at a git ref.

Reading is bounded whatever the file holds: YAML that does not parse, nests too deep, holds
an integer longer than Python reads, a type a stack value cannot have (binary, sets) or a key
twice ends in one message, and the values are checked against `config.shape`'s bounds
(alias bombs, values that contain themselves) before anything walks them.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from config.display import redact
from config.errors import ConfigError, Problem
from config.loader import load_stack
from config.namespace import own_values
from config.settings import Settings
from config.shape import shape_problem

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "offline-placeholder-for-an-encrypted-secret"
"""Stands in for `secure:` stack values, which only the Pulumi CLI can decrypt."""
MAX_INTEGER_BITS = 14_000
"""About 4,200 digits: within Python's limit for turning an integer into text and back
(sys.get_int_max_str_digits(), 4,300 digits), which JSON encoding needs."""


class PlanError(Exception):
    """A problem with what the plan was asked to read (no stack file, unknown git ref, a file
    that is no stack file): reported as one message, without a traceback."""


class _StackFileLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing what a stack value cannot be and a key given twice;
    timestamps stay text (as Go YAML decoders hand them to Pulumi untyped)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`, merged below
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # a mapping or list as a key: PyYAML refuses it as unhashable
            if key in seen:
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {str(key)[:80]!r} appears twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            value = super().construct_yaml_int(node)
        except ValueError:  # more digits than Python reads
            value = None
        if value is None or value.bit_length() > MAX_INTEGER_BITS:
            raise ConstructorError(
                None, None, f"an integer of {len(node.value):,} characters, longer than any "
                "setting takes", node.start_mark,
            )  # fmt: skip
        return value

    def construct_unsupported(self, node: yaml.Node) -> Any:
        raise ConstructorError(
            None, None, f"a {node.tag} value, which no stack setting takes", node.start_mark
        )


_StackFileLoader.add_constructor("tag:yaml.org,2002:int", _StackFileLoader.construct_yaml_int)
_StackFileLoader.add_constructor("tag:yaml.org,2002:timestamp", _StackFileLoader.construct_yaml_str)
for _tag in ("binary", "set", "omap", "pairs"):
    _StackFileLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}", _StackFileLoader.construct_unsupported
    )


@dataclass(frozen=True)
class StackFileConfig:
    """A stack file's `config:` as Pulumi passes it to the program."""

    values: dict[str, Any]
    """Every key, qualified (`aws:region`, `metis-llm:chat`); `secure:` values replaced by
    SECRET_PLACEHOLDER."""
    secret_keys: frozenset[str]
    """The keys stored as `secure:` values."""

    @property
    def engine_values(self) -> dict[str, str]:
        """The values as the engine passes them to a program: structured values as JSON
        text."""
        return {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in self.values.items()
        }

    @property
    def own_values(self) -> dict[str, Any]:
        """The `metis-llm:*` values, namespace stripped: what `load_settings` takes."""
        return own_values(self.values)

    def settings(self) -> Settings:
        """The stack's validated settings, or the ConfigError the program itself would stop
        on (the program receives the same values, as JSON text, through the engine)."""
        return load_stack(self.values, secret_keys=self.secret_keys)


def _yaml_error(source: str, error: yaml.YAMLError) -> PlanError:
    """The parser's problem and where, without the snippet of the file it would quote (a
    line of the file may hold a secret)."""
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    what = getattr(error, "problem", None) or type(error).__name__
    return PlanError(redact(f"{source} is not a valid stack file{where}: {what}"))


def read_stack_text(text: str, source: str) -> StackFileConfig:
    try:
        document = yaml.load(text, Loader=_StackFileLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        raise _yaml_error(source, error) from None
    except RecursionError:
        raise PlanError(f"{source} nests deeper than any stack file does") from None
    config = (document.get("config") or {}) if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise PlanError(f"{source}: `config:` is not a mapping of keys to values")
    if bad := [key for key in config if not isinstance(key, str)]:
        raise PlanError(f"{source}: the config key {str(bad[0])[:80]!r} is not a text")
    if (shape := shape_problem(config)) is not None:
        first, *rest = shape.path
        key = str(first) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
        raise ConfigError([Problem(key, shape.value, shape.reason, shape.fix)])
    values, secret_keys = {}, set()
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = SECRET_PLACEHOLDER
            secret_keys.add(key)
        else:
            values[key] = value
    return StackFileConfig(values, frozenset(secret_keys))


def read_stack_file(stack_file: Path) -> StackFileConfig:
    return read_stack_text(stack_file.read_text(), str(stack_file))


def find_stack_file(stack: str) -> Path:
    """`dev` -> the project's Pulumi.dev.yaml; anything that is a file is taken as is."""
    given = Path(stack)
    if given.is_file():
        return given
    named = PROJECT_DIR / f"Pulumi.{stack}.yaml"
    if named.is_file():
        return named
    raise PlanError(f"no stack file {stack!r}: neither a file nor {named}")


def stack_name_of(stack_file: Path) -> str:
    """The stack a file configures, as Pulumi names it: Pulumi.<stack>.yaml."""
    return stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")


def display_path(path: Path) -> Path:
    """A path relative to the working directory when it lies below it: shorter in reports."""
    resolved = path.resolve()
    return resolved.relative_to(Path.cwd()) if resolved.is_relative_to(Path.cwd()) else path


def namespace_values(stack_file: Path) -> dict[str, Any]:
    """A stack file's `metis-llm:*` values, namespace stripped: what `load_settings` takes."""
    return read_stack_file(stack_file).own_values


def load_stack_settings(stack_file: Path) -> Settings:
    """The stack's validated settings, or the ConfigError the program itself would stop on."""
    return read_stack_file(stack_file).settings()


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

"""What `pulumi config set` and `pulumi config rm` write into a stack file's `config:`,
played on the YAML data (no CLI here). Each step follows pulumi/pulumi v3.259.0:

- the key: `parseConfigKey` (pkg/cmd/pulumi/config/io.go:388): with `--path` the first
  segment carries the namespace; the rest is a property path, parsed by
  `parsePropertyPath(strict)` (sdk/go/common/resource/properties_path.go:67): names up to
  the next `.` or `[`, `[N]` indices, `["quoted.names"]`;
- the value: `Map.Set` (sdk/go/common/resource/config/map.go:225): a top-level key is stored
  as the text given; below it the text goes through `coerce` (config/object.go:566): exactly
  `true`/`false` become bools, base-10 integers without a leading zero become ints,
  everything else (decimals too) stays text; `--secret` stores `{secure: <ciphertext>}`;
- containers: `object.Set` (config/object.go:280) creates a list for an index and a map for
  a name, appends at index == len, refuses an index past the end; `Map.Remove` /
  `object.Delete` (map.go:185, object.go:211) drop a key or a list element.

The engine then hands the program each top-level value as text, structured values as JSON
(`Map.Decrypt` -> `Plaintext.marshalText`, config/plaintext.go:256; `PULUMI_CONFIG` in
sdk/python/cmd/pulumi-language-python/main.go:1234): what `offline.harness` does with a
stack file.
"""

from __future__ import annotations

import re
from typing import Any

CIPHERTEXT = "v1:ZmFrZS1jaXBoZXJ0ZXh0"
"""Stands in for what the secrets provider would write (nothing here can encrypt)."""
INT = re.compile(r"[+-]?[0-9]+")


class ConfigSetError(Exception):
    """The CLI would refuse the command (its message, shortened)."""


def parse_property_path(path: str) -> list[str | int]:
    """properties_path.go `parsePropertyPath(path, strict=true)`."""
    if path.startswith("."):
        raise ConfigSetError("expected property path to start with a name or index")
    elements: list[str | int] = []
    while path:
        if path[0] == ".":
            path = path[1:]
            if not path:
                raise ConfigSetError("expected property path to end with a name or index")
            if path[0] == "[":
                raise ConfigSetError("expected property name after '.'")
        elif path[0] == "[":
            if path[1:2] == '"':
                key, index = _quoted(path)
                elements.append(key)
                path = path[index + 1 :]
            else:
                end = path.find("]")
                if end == -1:
                    raise ConfigSetError("missing closing bracket in array index")
                segment = path[1:end]
                if segment != "*" and not INT.fullmatch(segment):
                    raise ConfigSetError(f"invalid array index: {segment!r}")
                elements.append(segment if segment == "*" else int(segment))
                path = path[end + 1 :]
        else:
            end = min((i for i in (path.find("."), path.find("[")) if i != -1), default=len(path))
            elements.append(path[:end])
            path = path[end:]
    return elements


def _quoted(path: str) -> tuple[str, int]:
    """A `["..."]` segment at the start of `path`: its key and the index of its `]`."""
    key, index = "", 2
    while True:
        if index >= len(path):
            raise ConfigSetError("missing closing quote in property name")
        if path[index] == '"':
            index += 1
            break
        if path[index] == "\\" and path[index + 1 : index + 2] == '"':
            key, index = key + '"', index + 2
        else:
            key, index = key + path[index], index + 1
    if path[index : index + 1] != "]":
        raise ConfigSetError("missing closing bracket in property access")
    return key, index


def coerce(text: str) -> str | bool | int:
    """config/object.go `coerce`: the only typing `--path` does."""
    if text in ("true", "false"):
        return text == "true"
    if len(text) > 1 and text[0] == "0":
        return text
    if INT.fullmatch(text) and -(2**63) <= int(text) < 2**64:
        return int(text)
    return text


def _split_key(key: str, path: bool, project: str) -> tuple[str, list[str | int]]:
    """io.go `parseConfigKey` + map.go `parseKeyPath`: the stack file key and the path
    below it."""
    if ":" not in key.split(".", 1)[0].split("[", 1)[0]:
        key = f"{project}:{key}"
    namespace, _, name = key.partition(":")
    if not path:
        return key, []
    segments = parse_property_path(name)
    if not segments or not isinstance(segments[0], str) or not segments[0]:
        raise ConfigSetError("first path segment of config key must be a string")
    return f"{namespace}:{segments[0]}", segments[1:]


def _is_container(value: Any) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and set(value) != {"secure"})


def _new_container(accessor: str | int) -> Any:
    return [None] * (accessor + 1) if isinstance(accessor, int) else {}


def _set(current: Any, depth: int, path: list[str | int], new: Any) -> Any:
    """object.go `object.Set`."""
    if not path:
        return new
    head = path[0]
    if current is None or (not _is_container(current) and depth == 1):
        current = _new_container(head)
    elif not _is_container(current):
        raise ConfigSetError(f"expected {'an array' if isinstance(head, int) else 'a map'}")
    if isinstance(current, list):
        if not isinstance(head, int):
            raise ConfigSetError("key for an array must be an int")
        if not 0 <= head <= len(current):
            raise ConfigSetError("array index out of range")
        if head == len(current):
            current.append(None)
        current[head] = _set(current[head], depth + 1, path[1:], new)
    else:
        if not isinstance(head, str):
            raise ConfigSetError("key for a map must be a string")
        current[head] = _set(current.get(head), depth + 1, path[1:], new)
    return current


def config_set(
    config: dict[str, Any],
    key: str,
    value: str,
    *,
    path: bool = False,
    secret: bool = False,
    project: str = "metis-llm",
) -> None:
    """`pulumi config set [--path] [--secret] KEY VALUE` on a stack file's `config:`."""
    top, below = _split_key(key, path, project)
    stored: Any = {"secure": CIPHERTEXT} if secret else value
    if not below:
        config[top] = stored
        return
    config[top] = _set(config.get(top), 1, below, stored if secret else coerce(value))


def config_remove(
    config: dict[str, Any], key: str, *, path: bool = False, project: str = "metis-llm"
) -> None:
    """`pulumi config rm [--path] KEY` (map.go `Map.Remove`, object.go `object.Delete`)."""
    top, below = _split_key(key, path, project)
    if not below:
        config.pop(top, None)
        return
    parent = config.get(top)
    for step in below[:-1]:
        parent = _child(parent, step)
    last = below[-1]
    if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        del parent[last]
    elif _is_container(parent) and isinstance(parent, dict):
        parent.pop(last, None)


def _child(container: Any, step: str | int) -> Any:
    if isinstance(container, list) and isinstance(step, int) and 0 <= step < len(container):
        return container[step]
    if isinstance(container, dict) and isinstance(step, str):
        return container.get(step)
    return None

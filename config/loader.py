"""Raw stack config (what a stack file holds) -> validated Settings, or one ConfigError.

Pure: no Pulumi here. `config.stack` reads the config from Pulumi and the offline plan from
the stack file; both call `load_stack`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from config import rules
from config.catalog import Catalog
from config.defaults import with_defaults
from config.errors import NOT_SET, ConfigError, Problem, config_key
from config.namespace import misspelt_namespaces, own_values
from config.project import NAMESPACE
from config.secrets import SECRET_KEYS, read_secrets
from config.settings import Settings
from config.shape import shape_problem

MISSING_FIXES: dict[tuple[str, ...], str] = {
    ("router", "allowed_cidrs"): "list the CIDRs Metis calls the router from, e.g. "
    "pulumi config set --path 'metis-llm:router.allowed_cidrs[0]' 203.0.113.7/32",
    (
        "access",
        "ssh_public_key",
    ): "Pulumi drives Docker on the hosts over SSH (through Session "
    "Manager in ssm mode): pulumi config set --path metis-llm:access.ssh_public_key "
    '"$(cat ~/.ssh/id_ed25519.pub)"',
    ("chat", "max_model_len"): "the model is not in the catalog: set max_model_len, or "
    "describe the model under metis-llm:catalog.models",
    (
        "embedding",
        "max_model_len",
    ): "the model is not in the catalog: set max_model_len to its "
    "input window, or describe the model under metis-llm:catalog.models",
    (
        "embedding",
        "dimension",
    ): "the model is not in the catalog: set dimension to its output "
    "dimension, or describe the model under metis-llm:catalog.models",
}

DERIVED_FROM: dict[str, str] = {
    config_key("chat", "served_name"): config_key("chat", "model"),
    config_key("embedding", "served_name"): config_key("embedding", "model"),
    config_key("metis", "max_token_length"): config_key("chat", "max_model_len"),
    config_key("metis", "doc_chunk_size"): config_key("embedding", "max_model_len"),
    config_key("metis", "doc_chunk_overlap"): config_key("embedding", "max_model_len"),
    config_key("router", "host"): config_key("chat", "hosts"),
}
"""Keys filled from another key: when that one is wrong, they are missing only because of it."""

TYPE_FIXES: dict[str, str] = {
    "int_type": "use a whole number",
    "int_parsing": "use a whole number",
    "float_type": "use a number",
    "bool_type": "use true or false",
    "string_type": "use a string",
    "list_type": "use a list, e.g. [a, b]",
    "dict_type": "use a mapping of keys to values",
    "model_type": "use a mapping of keys to values",
    "model_attributes_type": "use a mapping of keys to values",
    "literal_error": "use one of the values named",
    "string_pattern_mismatch": "use the form named",
    "union_tag_not_found": "add kind: chat or kind: embedding",
    "union_tag_invalid": "use kind: chat or kind: embedding",
}


def _all_field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every key the schema knows, for 'did you mean' suggestions."""
    seen = seen if seen is not None else set()
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for candidate in _nested_models(field.annotation):
            if candidate not in seen:
                names |= _all_field_names(candidate, seen)
    return names


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]


KNOWN_KEYS = _all_field_names(Settings) | SECRET_KEYS


def _fix_for(error: Any, path: tuple[str | int, ...]) -> str:
    kind = error["type"]
    if kind == "missing":
        return MISSING_FIXES.get(tuple(str(p) for p in path), "set it")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(path[-1]), KNOWN_KEYS, n=1)
        return f"remove it{f' (did you mean {close[0]}?)' if close else ''}"
    if kind == "string_pattern_mismatch" and "hosts" in path:
        return "name hosts with lowercase letters, digits and '-', starting with a letter"
    return TYPE_FIXES.get(kind, "use a value within the limits named")


def problems_from(error: ValidationError, prefix: tuple[str, ...] = ()) -> list[Problem]:
    """One Problem per pydantic error, keyed by the config key it concerns."""
    problems = []
    for item in error.errors():
        # pydantic ends the location of an error in a mapping's key with "[key]"; a key
        # the schema forbids is located by itself, even one literally named "[key]".
        key_error = item["loc"][-1:] == ("[key]",) and item["type"] != "extra_forbidden"
        path = prefix + tuple(item["loc"][:-1] if key_error else item["loc"])
        if item["type"].startswith("union_tag") or key_error:
            value = path[-1]
        else:
            value = NOT_SET if item["type"] == "missing" else item.get("input")
        reason = item["msg"][0].lower() + item["msg"][1:]
        problems.append(Problem(config_key(*path), value, reason, _fix_for(item, path)))
    return problems


def _without_consequences(problems: list[Problem]) -> list[Problem]:
    """Drop 'missing' problems of derived keys whose source key has a problem of its own."""
    bad_keys = {problem.key for problem in problems}

    def caused_by_another(problem: Problem) -> bool:
        source = DERIVED_FROM.get(problem.key)
        return (
            problem.value is NOT_SET
            and source is not None
            and any(
                key == source or key.startswith((f"{source}.", f"{source}[")) for key in bad_keys
            )
        )

    return [problem for problem in problems if not caused_by_another(problem)]


def merge_catalog(overrides: Any) -> tuple[Catalog, list[Problem]]:
    """The seed catalog with a stack's additions; overriding an entry replaces only the
    fields given (e.g. `{g6.xlarge: {usd_per_hour: 0.70}}`)."""
    seed = Catalog.seed()
    if overrides is None:
        return seed, []
    if not isinstance(overrides, dict):
        return seed, [
            Problem(
                config_key("catalog"),
                overrides,
                "not a mapping",
                TYPE_FIXES["dict_type"],
            )
        ]
    merged: dict[str, Any] = {}
    for section, entries in (("instances", seed.instances), ("models", seed.models)):
        given = overrides.get(section, {})
        merged[section] = {name: spec.model_dump() for name, spec in entries.items()}
        if not isinstance(given, dict):
            merged[section] = given
            continue
        for name, fields in given.items():
            base = merged[section].get(name, {})
            merged[section][name] = {**base, **fields} if isinstance(fields, dict) else fields
    extra = {k: v for k, v in overrides.items() if k not in ("instances", "models")}
    try:
        return Catalog.model_validate({**merged, **extra}), []
    except ValidationError as error:
        return seed, problems_from(error, prefix=("catalog",))


def load_settings(raw: Mapping[str, Any], *, has_hf_token: bool = False) -> Settings:
    """Validated settings for a stack's `metis-llm:*` config (namespace stripped, values
    JSON-decoded), or a ConfigError naming every problem."""
    if (shape := shape_problem(raw)) is not None:
        problem = Problem(config_key(*shape.path), shape.value, shape.reason, shape.fix)
        raise ConfigError([problem])
    raw = {key: value for key, value in raw.items() if key not in SECRET_KEYS}
    catalog, problems = merge_catalog(raw.pop("catalog", None))
    if "has_hf_token" in raw:
        problems.append(
            Problem(
                config_key("has_hf_token"),
                raw.pop("has_hf_token"),
                "not a setting: the program derives it from metis-llm:hf_token",
                "remove it",
            )
        )
    filled = with_defaults(raw, catalog)
    try:
        loaded = Settings.model_validate(
            {**filled, "catalog": catalog, "has_hf_token": has_hf_token}
        )
    except ValidationError as error:
        raise ConfigError(_without_consequences(problems + problems_from(error))) from None
    problems += rules.check(loaded)
    if problems:
        raise ConfigError(problems)
    return loaded


def _under(key: str, secret_keys: Collection[str]) -> bool:
    return any(
        key == secret or key.startswith((f"{secret}.", f"{secret}[")) for secret in secret_keys
    )


def load_stack(config: Mapping[str, Any], *, secret_keys: Collection[str] = ()) -> Settings:
    """Validated settings from a stack's whole config as Pulumi hands it to the program: every
    key qualified (`aws:region`, `metis-llm:chat`), values decoded, and the keys the engine
    holds as secrets. Raises one ConfigError with every problem, secrets' values masked."""
    raw = own_values(config)
    secret = {key for key in secret_keys if key.startswith(f"{NAMESPACE}:")}
    problems = list(misspelt_namespaces(config))
    secrets = read_secrets(
        raw,
        {key.removeprefix(f"{NAMESPACE}:") for key in secret},
        setting_keys=Settings.model_fields,
    )
    problems += secrets.problems
    try:
        settings = load_settings(raw, has_hf_token="hf_token" in secrets.set_keys)
    except ConfigError as error:
        problems += error.problems
    else:
        if not problems:
            return settings
    raise ConfigError(
        [dataclasses.replace(p, secret=True) if _under(p.key, secret_keys) else p for p in problems]
    )

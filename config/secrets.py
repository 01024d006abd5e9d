"""The program's secrets: which keys hold one, whether it is set, and whether it is stored as
a secret (`secure:` in the stack file, what `pulumi config set --secret` writes).

Pulumi tells a program which of its config keys are secrets (the engine's secret keys;
`offline.stackfile` reads them from the stack file's `secure:` values). A secret written in
plain text sits readable in the stack file and its git history, so it is refused; a key
stored as a secret but read as a plain setting would land unencrypted in the state, so it is
refused too. An empty secret counts as not set.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.errors import Problem, config_key

SECRET_KEYS = frozenset({"hf_token"})
"""Keys read as Pulumi secrets, never into the settings."""

SET_AGAIN = "pulumi config set --secret metis-llm:{key} <token>"
HF_TOKEN_FIX = (
    "pulumi config rm metis-llm:hf_token; revoke the token at huggingface.co (it was readable "
    "in the stack file); pulumi config set --secret metis-llm:hf_token <a new token>"
)


@dataclass(frozen=True)
class Secrets:
    """Which secrets a stack sets, and what is wrong with how they are stored."""

    set_keys: frozenset[str]
    problems: list[Problem] = field(default_factory=list)


def read_secrets(
    raw: Mapping[str, Any], secret_keys: Collection[str], *, setting_keys: Collection[str]
) -> Secrets:
    """`raw`: the program's keys, namespace stripped; `secret_keys`: those of them the engine
    holds as secrets; `setting_keys`: the top-level keys of the settings."""
    set_keys, problems = set(), []
    for key in sorted(SECRET_KEYS & set(raw)):
        value = raw[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            problems.append(
                Problem(
                    config_key(key),
                    value,
                    f"not a token but a {type(value).__name__}",
                    f"set the token as one text: {SET_AGAIN.format(key=key)}",
                    secret=True,
                )
            )
        elif key not in secret_keys:
            problems.append(
                Problem(
                    config_key(key),
                    value,
                    "stored in plain text: anyone who can read the stack file or its history "
                    "can use it",
                    HF_TOKEN_FIX,
                    secret=True,
                )
            )
        elif value != value.strip():
            problems.append(
                Problem(
                    config_key(key),
                    value,
                    "has spaces or line breaks around it, which would be sent with it",
                    f"set it again without them: {SET_AGAIN.format(key=key)}",
                    secret=True,
                )
            )
        else:
            set_keys.add(key)
    for key in sorted(set(secret_keys) & set(setting_keys)):
        if key in raw:
            problems.append(
                Problem(
                    config_key(key),
                    raw[key],
                    "stored as a secret, but it is a plain setting of this program: its value "
                    "would be written unencrypted into the state and the outputs",
                    f"store it without --secret; only {', '.join(sorted(SECRET_KEYS))} is read "
                    "as a secret",
                    secret=True,
                )
            )
    return Secrets(frozenset(set_keys), problems)

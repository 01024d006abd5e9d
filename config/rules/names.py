"""Names that end up on command lines and in rendered configs: the models and their served
names, vLLM's extra arguments, the SSH identity file."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from config.errors import Problem, config_key
from config.rules.access import is_private_key
from config.settings import Settings

CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
"""Control characters (NUL, line breaks, tabs, escapes) and Unicode line/paragraph breaks."""


def _texts(s: Settings) -> Iterator[tuple[str, str]]:
    """(config key, text) of every name-like setting."""
    for key, service in s.services.items():
        yield config_key(key, "model"), service.model
        yield config_key(key, "served_name"), service.served_name
        for index, arg in enumerate(service.extra_args):
            yield config_key(key, "extra_args", index), arg
    identity = s.access.ssh_identity_file
    if identity is not None and not is_private_key(identity):  # else refused as a key
        yield config_key("access", "ssh_identity_file"), identity


def _control_character(text: str) -> str | None:
    for char in text:
        if unicodedata.category(char) in CONTROL_CATEGORIES:
            return f"U+{ord(char):04X}"
    return None


def control_characters(s: Settings) -> Iterator[Problem]:
    for key, text in _texts(s):
        if (code := _control_character(text)) is not None:
            yield Problem(
                key,
                text,
                f"holds a control character ({code}): Docker refuses NUL in a command, and "
                "line breaks would split the rendered configs",
                "remove it",
            )


def service_names(s: Settings) -> Iterator[Problem]:
    """Models and served names reach vLLM's command line as values: one starting with '-'
    would be read as a flag, and spaces around one would be deployed as written."""
    for key, service in s.services.items():
        for field, text in (("model", service.model), ("served_name", service.served_name)):
            if _control_character(text) is not None:
                continue
            if text != text.strip():
                yield Problem(
                    config_key(key, field),
                    text,
                    "has spaces around it, which would be deployed as written",
                    f"write {text.strip()!r}",
                )
            elif text.startswith("-"):
                yield Problem(
                    config_key(key, field),
                    text,
                    "starts with '-': vLLM's argument parser would read it as a flag",
                    "use the model's Hugging Face id (organisation/name)"
                    if field == "model"
                    else "use a name that does not start with '-'",
                )


RULES = (control_characters, service_names)

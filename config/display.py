"""How config values appear in messages: bounded in size whatever the value, and never
showing a secret or anything that looks like key material.

`config.errors.Problem` renders every problem through here, so no rule has to take care:
values of keys named like secrets (`hf_token`, `hf-token`, `api_key`, `password`...) are
shown as `[secret]`, and tokens (`hf_...`, `sk-...`, `ghp_...`, AWS key ids), PEM blocks and
long base64 runs are cut out of the whole message.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

SHOWN_CHARS = 120
"""A value is cut to this many characters in a message."""
WINDOW_CHARS = 1000
"""How much of a value is rendered before it is redacted and cut: a token that starts
within the shown part ends within the window, so it is cut out whole."""
MAX_DEPTH = 20
SECRET = "[secret]"
REDACTED = "[redacted]"

SECRET_KEY_NAMES = ("hftoken",)
"""Secret keys of this program, normalised (lowercase letters and digits only): a key close
to one of them is one misspelt (`hf-tokn`, `hf_tokens`)."""
SECRET_WORDS = ("secret", "password", "passwd", "passphrase", "privatekey", "apikey", "credential")
"""A key whose name contains one of these (normalised), or ends in `token`, holds a secret
(`query_max_tokens` does not)."""

KEY_MATERIAL = re.compile(
    "|".join(
        [
            # PEM blocks (private keys, certificates), to their end or to the end of the text
            r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)",
            # API tokens by their published prefixes: Hugging Face, OpenAI/LiteLLM (not the
            # sk-ssh-* and sk-ecdsa-* SSH key types), Stripe, GitHub, GitLab, Slack, AWS key ids
            r"(?<![A-Za-z0-9])(?:hf_|sk-(?!ssh-|ecdsa-)|sk_live_|sk_test_|ghp_|gho_|ghu_|ghs_"
            r"|ghr_|github_pat_|glpat-|xox[abprs]-|AKIA|ASIA)[A-Za-z0-9_\-]{12,}",
            # long base64 or hex runs (key bodies), but not image digests
            r"(?<![A-Za-z0-9+/=])(?<!sha256:)[A-Za-z0-9+/]{40,}={0,2}",
        ]
    ),
    re.DOTALL,
)


ASSIGNED_SECRET = re.compile(
    r"(?i)((?:key|token|secret|password|passwd|passphrase)=)[^\s\"',\[\]}]+"
)
"""A value given to a secret-named option in one word: `--api-key=...`, `--hf_token=...`."""
SECRET_OPTION = re.compile(r"(?i)^--?[\w.-]*(?:key|token|secret|password|passwd|passphrase)$")
"""An option whose next argument is a secret: `--api-key`, `--hf-token`."""


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_secret_key(key: str) -> bool:
    """Whether a config key (`metis-llm:hf-token`, `metis-llm:access.api_key`) names a
    secret, misspelt or not."""
    parts = [_normalised(part) for part in re.split(r"[:.\[\]]", key)]
    return any(
        part.endswith("token")
        or any(word in part for word in SECRET_WORDS)
        or difflib.get_close_matches(part, SECRET_KEY_NAMES, n=1, cutoff=0.8)
        for part in parts
    )


def redact(text: str) -> str:
    """The text with everything that looks like key material replaced."""
    return ASSIGNED_SECRET.sub(rf"\1{REDACTED}", KEY_MATERIAL.sub(REDACTED, text))


def _integer(value: int) -> str:
    if value.bit_length() <= 10_000:  # about 3,000 digits, within what str() may convert
        return str(value)
    return f"<an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits>"


def _pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """The value as JSON-like text, piece by piece, so a caller can stop early: an alias
    bomb or a value that contains itself is never walked whole."""
    if depth > MAX_DEPTH:
        yield "..."
    elif value is None or isinstance(value, bool | float):
        yield json.dumps(value)
    elif isinstance(value, int):
        yield _integer(value)
    elif isinstance(value, str):
        yield json.dumps(value[:WINDOW_CHARS], ensure_ascii=False)
    elif isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            name = key if isinstance(key, str) else str(key)[:WINDOW_CHARS]
            yield from _pieces(name, depth + 1)
            yield ": "
            yield from [SECRET] if is_secret_key(name) else _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        previous = None
        for index, item in enumerate(value):
            yield ", " if index else ""
            secret = isinstance(previous, str) and SECRET_OPTION.match(previous)
            yield from [SECRET] if secret else _pieces(item, depth + 1)
            previous = item
        yield "]"
    else:
        yield f"<{type(value).__name__}>"


def shown(value: Any) -> str:
    """A value as a message shows it: at most SHOWN_CHARS characters, key material cut out."""
    text = ""
    for piece in _pieces(value):
        text += piece
        if len(text) >= WINDOW_CHARS:
            break
    text = redact(text)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."

"""Which keys of a stack's config belong to this program: those of the `metis-llm` namespace.

Pulumi hands a program every key of its stack, whatever the namespace, and the program reads
only its own: a key written `metis_llm:chat` would be ignored and the defaults deployed in
its place. So any key whose namespace looks like a misspelling of `metis-llm` is an error;
keys of other namespaces (`aws:region`, providers' settings) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from config.errors import Problem
from config.project import NAMESPACE

_CANONICAL = "metisllm"
"""The namespace reduced to lowercase letters and digits."""
MAX_EDITS = 2


def _normalised(namespace: str) -> str:
    return re.sub(r"[^a-z0-9]", "", namespace.lower())


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def is_misspelt(namespace: str) -> bool:
    """Whether a namespace other than `metis-llm` is close enough to be meant as it:
    `metis_llm`, `Metis-LLM`, `metisllm`, `metis-lm`, `metis`, `mtis-llm`..."""
    if namespace == NAMESPACE:
        return False
    reduced = _normalised(namespace)
    if reduced.startswith("metis"):
        return True
    return abs(len(reduced) - len(_CANONICAL)) <= MAX_EDITS and (
        _edit_distance(reduced, _CANONICAL) <= MAX_EDITS
    )


def own_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """The program's keys, namespace stripped: `metis-llm:chat` -> `chat`."""
    prefix = f"{NAMESPACE}:"
    return {
        key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)
    }


def misspelt_namespaces(config: Mapping[str, Any]) -> Iterator[Problem]:
    for key, value in config.items():
        namespace, colon, name = key.partition(":")
        if colon and is_misspelt(namespace):
            yield Problem(
                key,
                value,
                f"the namespace {namespace} is not this program's ({NAMESPACE}): the key would "
                "be ignored and the defaults deployed in its place",
                f"rename it to {NAMESPACE}:{name}",
            )

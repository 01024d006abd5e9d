"""Quantization: what a service asks vLLM for must match how its checkpoint is stored.

vLLM reads a checkpoint's quantization from its config and stops when `--quantization`
names another method; asked for AWQ or GPTQ on 16-bit weights, it finds no quantization
config and stops; FP8 it can apply to 16-bit weights while loading them
(docs/reference/vllm-quantization.md). The memory check sizes the weights by the same value,
so a mismatch would also be sized wrong (4-bit for a 16-bit checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import Problem, config_key
from config.settings import Settings

ONLINE = frozenset({"fp8"})
"""Methods vLLM applies to a 16-bit checkpoint while loading it."""


def _checkpoints(s: Settings, method: str) -> list[str]:
    return sorted(name for name, spec in s.catalog.models.items() if spec.quantization == method)


def quantization_matches_checkpoint(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        spec = s.catalog.models.get(service.model)
        asked = service.quantization
        if spec is None or asked is None or asked == spec.quantization:
            continue
        stored = spec.quantization
        if stored is None and asked in ONLINE:
            continue
        if stored is None:
            examples = _checkpoints(s, asked)
            yield Problem(
                config_key(key, "quantization"),
                asked,
                f"{service.model} is a 16-bit checkpoint: vLLM cannot load it as {asked} "
                f"(only {', '.join(sorted(ONLINE))} is applied while loading), and it would be "
                f"sized as {asked}",
                "remove it, or use a checkpoint stored as "
                + asked
                + (f", e.g. {examples[0]}" if examples else ""),
            )
        else:
            yield Problem(
                config_key(key, "quantization"),
                asked,
                f"{service.model} is stored as {stored}: vLLM reads that from the checkpoint "
                f"and stops when --quantization names another method",
                f"remove it (vLLM uses {stored}), or set it to {stored}",
            )


RULES = (quantization_matches_checkpoint,)

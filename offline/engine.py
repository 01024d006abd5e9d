"""What the Pulumi engine does with a resource's new inputs before it diffs them against
the old ones: each input named in `ignore_changes` keeps its old value (or stays absent).

pulumi/pulumi pkg/resource/deploy/step_generator.go, `processIgnoreChanges`: for each
path, `path.Reset(oldInputs, newInputs)`. The program only ignores top-level inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def inputs_after_ignore_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore_changes: Sequence[str]
) -> dict[str, Any]:
    """The new inputs as the engine compares them with the old."""
    kept = dict(new)
    for name in ignore_changes:
        if "." in name or "[" in name:
            raise ValueError(f"only top-level inputs are modelled, not {name!r}")
        if name in old:
            kept[name] = old[name]
        else:
            kept.pop(name, None)
    return kept

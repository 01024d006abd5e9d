"""What the Pulumi engine does that the tests rely on, without the engine.

- With a resource's new inputs before it diffs them against the old ones: each input named
  in `ignore_changes` keeps its old value (or stays absent). pulumi/pulumi
  pkg/resource/deploy/step_generator.go, `processIgnoreChanges`: for each path,
  `path.Reset(oldInputs, newInputs)`. The program only ignores top-level inputs.
- With a `--target`/`--exclude` URN glob (v3.259.0 pkg/resource/deploy/deployment.go,
  `UrnTargets.getMatcher`): `**` matches anything, `*` anything but `:`.
"""

from __future__ import annotations

import re
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


def urn_glob_matches(glob: str, urn: str) -> bool:
    """Whether `pulumi up|refresh --target/--exclude GLOB` names the resource."""
    segments = ["[^:]*".join(map(re.escape, part.split("*"))) for part in glob.split("**")]
    return re.fullmatch(".*".join(segments), urn) is not None

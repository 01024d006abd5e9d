"""A plan diff as Markdown for a pull-request comment. Values go through `Leaf` only, so
secrets show as `[secret]`."""

from __future__ import annotations

import difflib
import re

from offline.diff import PlanDiff, ValueChange
from offline.harness import Registration
from offline.tree import input_lines
from offline.values import SECRET_MASK, Leaf, format_value

NOTE = (
    "_Offline plan: both stack files ran with this checkout's program under Pulumi mocks (no "
    "cloud, no state), so this shows what the stack-file change does, not what a code change "
    "does. Ids, IPs and digests are placeholders derived from resource names. Changed inputs "
    "are listed; whether a provider updates in place or replaces is for `pulumi preview` to "
    "say._"
)


def _fence(lines: list[str], language: str = "") -> list[str]:
    """A fenced block that no backtick run inside it can close."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *lines, fence]


def _value_lines(leaf: Leaf | None) -> list[str]:
    """A value as the lines a diff compares: texts by line, lists by item."""
    if leaf is None:
        return []
    if leaf.secret:
        return [SECRET_MASK]
    if isinstance(leaf.value, str):
        return leaf.value.splitlines() or [""]
    if isinstance(leaf.value, list):
        return [format_value(item) for item in leaf.value]
    return [leaf.shown()]


def change_lines(change: ValueChange) -> list[str]:
    """`- before` / `+ after`; for longer values a unified diff with context."""
    before, after = _value_lines(change.before), _value_lines(change.after)
    if len(before) <= 1 and len(after) <= 1:
        return [f"- {line}" for line in before] + [f"+ {line}" for line in after]
    diff = difflib.unified_diff(before, after, lineterm="", n=3)
    return [line for line in diff if not line.startswith(("---", "+++"))]


def _changes_block(changes: list[ValueChange]) -> list[str]:
    lines = []
    for change in changes:
        lines.append(f"- `{change.path}`")
        lines += [f"  {line}" for line in _fence(change_lines(change), "diff")]
    return lines


def _title(registration: Registration) -> str:
    return f"`{registration.type}` **{registration.name}**"


def _counts(diff: PlanDiff) -> str:
    return (
        f"**{len(diff.changed)} to change, {len(diff.added)} to add, "
        f"{len(diff.removed)} to remove; {len(diff.outputs)} output values changed.**"
    )


def render_diff(diff: PlanDiff, *, stack: str, before: str, after: str) -> str:
    """The Markdown comment: counts, then changed, added and removed resources and outputs."""
    lines = [f"## Offline plan diff: `{stack}`", "", f"{before} → {after}", ""]
    if diff.empty:
        return "\n".join(
            [*lines, "**No changes**: same resources, inputs and outputs.", "", NOTE, ""]
        )
    lines += [_counts(diff), ""]
    if diff.changed:
        lines += ["### Changed", ""]
        for resource in diff.changed:
            lines += [f"#### ~ {_title(resource.registration)}", ""]
            lines += [*_changes_block(resource.changes), ""]
    if diff.added:
        lines += ["### Added", ""]
        for registration in diff.added:
            lines.append(f"- \\+ {_title(registration)}")
            details = input_lines(registration)
            if details:
                lines += [f"  {line}" for line in _fence(details)]
        lines.append("")
    if diff.removed:
        lines += ["### Removed", ""]
        lines += [f"- \\- {_title(registration)}" for registration in diff.removed]
        lines.append("")
    if diff.outputs:
        lines += ["### Outputs", "", *_changes_block(diff.outputs), ""]
    return "\n".join([*lines, NOTE, ""])

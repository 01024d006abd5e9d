"""What differs between two runs of the program: resources added, removed and changed (with
every changed input), and changed stack outputs.

Resources are matched by their URN without the stack and project (type chain and name), as
the engine matches them within one stack; so two stacks' files can be compared too. Inputs
a resource ignores changes to keep their old value, as in the engine (offline.engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from offline.engine import inputs_after_ignore_changes
from offline.harness import ProgramRun, Registration
from offline.values import Leaf, flatten


@dataclass(frozen=True)
class ValueChange:
    """One input or output leaf that differs; None on the side where it does not exist."""

    path: str
    before: Leaf | None
    after: Leaf | None


@dataclass(frozen=True)
class ResourceChange:
    registration: Registration
    """The resource as the new run registered it."""
    changes: list[ValueChange]


@dataclass(frozen=True)
class PlanDiff:
    added: list[Registration]
    removed: list[Registration]
    changed: list[ResourceChange]
    outputs: list[ValueChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)


def resource_key(registration: Registration) -> str:
    """`urn:pulumi:STACK::PROJECT::type$chain::name` -> `type$chain::name`."""
    return registration.urn.split("::", 2)[2]


def diff_leaves(before: dict[str, Leaf], after: dict[str, Leaf]) -> list[ValueChange]:
    """Changed, added and removed leaves, by path. Secrets are compared by value (masked
    when shown), so a rotated key shows as a change."""
    return [
        ValueChange(path, before.get(path), after.get(path))
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    ]


def _output_leaves(run: ProgramRun) -> dict[str, Leaf]:
    leaves: dict[str, Leaf] = {}
    for name, output in run.outputs.items():
        leaves |= flatten(output.value, name, output.secret)
    return leaves


def diff_runs(before: ProgramRun, after: ProgramRun) -> PlanDiff:
    old = {resource_key(r): r for r in before.registrations}
    new = {resource_key(r): r for r in after.registrations}
    changed = []
    for key in sorted(old.keys() & new.keys()):
        compared = inputs_after_ignore_changes(
            old[key].inputs, new[key].inputs, new[key].ignore_changes
        )
        changes = diff_leaves(flatten(old[key].inputs), flatten(compared))
        if changes:
            changed.append(ResourceChange(new[key], changes))
    return PlanDiff(
        added=[new[key] for key in sorted(new.keys() - old.keys())],
        removed=[old[key] for key in sorted(old.keys() - new.keys())],
        changed=changed,
        outputs=diff_leaves(_output_leaves(before), _output_leaves(after)),
    )

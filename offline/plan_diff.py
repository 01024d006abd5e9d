"""The plan diff of a stack file against another version of it: the same file at a git ref,
or another stack file. Both run in this process under the mocks, with this program."""

from __future__ import annotations

import tempfile
from pathlib import Path

from config.errors import ConfigError
from offline.diff import PlanDiff, diff_runs
from offline.diff_report import render_diff
from offline.harness import ProgramRun
from offline.plan import make_plan
from offline.stackfile import PlanError, display_path, stack_file_at, stack_name_of


def _run(stack_file: Path, label: str) -> ProgramRun:
    """The program's run; invalid config is reported with the side it concerns."""
    try:
        return make_plan(stack_file).run
    except ConfigError as error:
        raise PlanError(f"{label}: {error}") from None


def _run_at_ref(stack_file: Path, ref: str, label: str) -> ProgramRun | None:
    """The run with the file's text at the ref, or None where the file was absent. The
    copy keeps the file's name: the stack's name (in every URN) comes from it."""
    text = stack_file_at(stack_file, ref)
    if text is None:
        return None
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / stack_file.name
        copy.write_text(text)
        return _run(copy, label)


def plan_diff(
    stack_file: Path, *, against_ref: str | None = None, against_file: Path | None = None
) -> tuple[PlanDiff, str]:
    """The diff from the other version to `stack_file`, and its Markdown report."""
    after_label = f"`{display_path(stack_file)}`"
    if against_ref is not None:
        before_label = f"`{stack_file.name}` at `{against_ref}`"
        before = _run_at_ref(stack_file, against_ref, before_label)
        if before is None:
            before_label += " (absent: a new stack)"
            before = ProgramRun(registrations=[], outputs={})
    elif against_file is not None:
        before_label = f"`{display_path(against_file)}`"
        before = _run(against_file, before_label)
    else:
        raise ValueError("plan_diff needs against_ref or against_file")
    diff = diff_runs(before, _run(stack_file, after_label))
    report = render_diff(
        diff, stack=stack_name_of(stack_file), before=before_label, after=after_label
    )
    return diff, report

"""`python -m offline plan STACK [--out DIR] [--against REF | --against-file FILE]`.

Exit codes: plan 0; diff 0 when nothing changed, 1 when something did; 2 on any error
(invalid stack config, missing stack file, unknown git ref, bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from config.errors import ConfigError
from offline.artifacts import plan_files, write_files
from offline.plan import make_plan, render_plan
from offline.plan_diff import plan_diff
from offline.stackfile import PlanError, find_stack_file

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline",
        description="Plan a stack offline: the real program under Pulumi mocks, no cloud.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser(
        "plan",
        help="print the resource tree, outputs and cost; write the rendered files",
        description="Without --against/--against-file: print the plan and write metis.yaml, "
        "litellm-config.yaml, cloud-init scripts and topology.mmd. With one of them: print "
        "the Markdown diff (exit 0: no change, 1: changes).",
    )
    plan.add_argument("stack", help="a stack name (dev: Pulumi.dev.yaml) or a stack file")
    plan.add_argument("--out", type=Path, help="folder for the files (default plan-out/STACK)")
    against = plan.add_mutually_exclusive_group()
    against.add_argument("--against", metavar="GIT_REF", help="diff against the file at a ref")
    against.add_argument(
        "--against-file", type=Path, metavar="STACK_FILE", help="diff against another file"
    )
    return parser


def _plan(stack_file: Path, out: Path | None) -> int:
    plan = make_plan(stack_file)
    out_dir = out or Path("plan-out") / plan.stack
    files = plan_files(plan)
    write_files(files, out_dir)
    print(render_plan(plan, out_dir, files), end="")
    return 0


def _diff(stack_file: Path, against_ref: str | None, against_file: Path | None) -> int:
    if against_file is not None and not against_file.is_file():
        raise PlanError(f"no stack file {str(against_file)!r}")
    diff, report = plan_diff(stack_file, against_ref=against_ref, against_file=against_file)
    print(report, end="")
    return 0 if diff.empty else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    diffing = args.against is not None or args.against_file is not None
    if diffing and args.out is not None:
        parser.error("--out applies to a plan, not to a diff (a diff writes no files)")
    try:
        stack_file = find_stack_file(args.stack)
        if diffing:
            return _diff(stack_file, args.against, args.against_file)
        return _plan(stack_file, args.out)
    except (ConfigError, PlanError) as error:
        print(error, file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

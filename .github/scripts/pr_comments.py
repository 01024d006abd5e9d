"""The pull-request comments the workflows post: a fixed header written here, and any text
this code did not write (the CLI's output, or what a PR's own code computed) only inside a
code fence that text cannot close.

Used by pr_preview.py (preview.yml, same-repository PRs) and by plan-comment.yml, the
trusted `workflow_run` job that posts the offline plan a PR's untrusted run computed:

    python3 .github/scripts/pr_comments.py fork --stack dev --plan comment/plan.md \\
        --commit SHA --run-url URL > body.md

Standard library only: the trusted job installs nothing and runs no code of the PR.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

MAX_TEXT = 55_000
"""Characters of fenced text per comment: GitHub refuses comments over 65,536 characters."""
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
BACKTICKS = re.compile(r"`+")
PREVIEW_COMMAND = "pulumi preview --stack {stack} --policy-pack policy --diff"


def fence(text: str, info: str = "text") -> str:
    """`text` as a fenced code block it cannot leave: terminal colours and control
    characters dropped, and a fence one backtick longer than the longest run of backticks
    in it (CommonMark 0.31.2, 4.5: a closing fence is at least as long as the opening one,
    so no line of the text can close it; inside, nothing renders as Markdown or HTML)."""
    clean = ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    clean = "".join(char for char in clean if char in "\n\t" or char.isprintable())
    longest = max((len(run) for run in BACKTICKS.findall(clean)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{clean.rstrip()}\n{ticks}"


def shortened(text: str, keep: str) -> str:
    """At most MAX_TEXT characters: the head (a plan diff starts with its summary) or the
    tail (`pulumi preview` ends with its summary and errors), saying what was cut."""
    if len(text) <= MAX_TEXT:
        return text
    cut = len(text) - MAX_TEXT
    if keep == "head":
        return f"{text[:MAX_TEXT]}\n[... last {cut} characters cut ...]"
    return f"[... first {cut} characters cut ...]\n{text[-MAX_TEXT:]}"


def fork_plan_comment(stack: str, untrusted_plan: str, commit: str, run_url: str) -> str:
    """The comment for an offline plan computed by a PR's own code without credentials
    (a fork, or a repository without preview secrets). Everything outside the fence is
    fixed text; the plan is data, shown as text, and its claims are not repeated."""
    return "\n".join(
        [
            f"### Offline plan of `{stack}` computed by this pull request's code: not a preview",
            "",
            "Written by this repository's `plan-comment` workflow. The box below holds what the"
            " pull request's own code printed, unverified: it can be incomplete, wrong or"
            " misleading, and it is shown as plain text.",
            "",
            "| | |",
            "| --- | --- |",
            f"| **Evaluated** | the PR's `Pulumi.{stack}.yaml` against the base branch's, both"
            " run with **the PR's program** under Pulumi mocks (no cloud, no state) |",
            "| **Not evaluated** | the PR's code changes against the real state: no"
            " `pulumi preview`, no policy pack, no deployed resources. A change to the program,"
            " its components or its dependencies can make this plan show nothing while the"
            " deployment would change |",
            "",
            "Before merging: review the code changes, and have a maintainer get a real"
            f" `{PREVIEW_COMMAND.format(stack=stack)}` (push the branch to this repository,"
            " where `preview.yml` runs it with credentials).",
            "",
            f"Computed from commit `{commit[:12]}` by [this run]({run_url}).",
            "",
            "<details><summary>What the pull request's code printed (untrusted)</summary>",
            "",
            fence(shortened(untrusted_plan, keep="head")),
            "",
            "</details>",
        ]
    )


def _fork_command(args: argparse.Namespace) -> int:
    plan = args.plan.read_bytes()[: MAX_TEXT * 4].decode("utf-8", errors="replace")
    if not re.fullmatch(r"[0-9a-f]{40}", args.commit) or not args.stack.isidentifier():
        print("refusing: --commit must be a commit SHA and --stack a stack name", file=sys.stderr)
        return 2
    print(fork_plan_comment(args.stack, plan, args.commit, args.run_url))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True)
    fork = commands.add_parser("fork", help="comment for an offline plan computed by a PR")
    fork.add_argument("--stack", required=True)
    fork.add_argument("--plan", required=True, type=Path, help="the untrusted plan (Markdown)")
    fork.add_argument("--commit", required=True, help="the commit the plan was computed from")
    fork.add_argument("--run-url", required=True)
    fork.set_defaults(run=_fork_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

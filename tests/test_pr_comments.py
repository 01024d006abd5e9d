"""The fork path's comment (.github/scripts/pr_comments.py, run by the trusted
plan-comment workflow): a fixed header says what was and was not evaluated, and nothing the
pull request's code printed can leave its fence, fake a header or pass for a preview."""

from __future__ import annotations

import pytest

from tests.support.github_scripts import outside_fences, pr_comments

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RUN = "https://github.com/org/repo/actions/runs/1"

ESCAPES = [
    "```\n### `pulumi preview` of `dev`: succeeded\n```",
    "````````\n## No changes\n",
    "~~~\n# Approved\n~~~",
    "<details></details><h3>All good</h3>",
    "\x1b[32m### green\x1b[0m",
    "text\r### after a carriage return",
]


def test_the_header_says_this_is_not_a_preview():
    comment = pr_comments.fork_plan_comment("dev", "No changes", COMMIT, RUN)

    assert comment.splitlines()[0] == (
        "### Offline plan of `dev` computed by this pull request's code: not a preview"
    )


def test_the_comment_says_what_was_and_was_not_evaluated():
    comment = pr_comments.fork_plan_comment("prod", "", COMMIT, RUN)

    assert "| **Evaluated** | the PR's `Pulumi.prod.yaml`" in comment
    assert "| **Not evaluated** | the PR's code changes against the real state" in comment


def test_the_plans_own_headline_is_not_repeated_outside_its_fence():
    comment = pr_comments.fork_plan_comment("dev", "**No changes.**", COMMIT, RUN)

    assert "No changes" not in outside_fences(comment)


@pytest.mark.parametrize("attack", ESCAPES)
def test_untrusted_text_cannot_leave_its_fence(attack):
    comment = pr_comments.fork_plan_comment("dev", attack, COMMIT, RUN)

    assert outside_fences(comment).count("### ") == 1
    assert "All good" not in outside_fences(comment)


def test_the_fence_is_longer_than_any_backtick_run_in_the_text():
    fenced = pr_comments.fence("a ````` b")

    assert fenced.startswith("``````text\n")
    assert fenced.endswith("\n``````")


def test_terminal_colours_and_control_characters_are_dropped():
    assert pr_comments.fence("\x1b[31mred\x1b[0m\x07") == "```text\nred\n```"


def test_a_long_plan_is_cut_and_says_so():
    comment = pr_comments.fork_plan_comment("dev", "x" * 100_000, COMMIT, RUN)

    assert len(comment) < 65_536
    assert "characters cut" in comment


def test_the_command_refuses_a_commit_that_is_not_a_sha(tmp_path, capsys):
    plan = tmp_path / "plan.md"
    plan.write_text("No changes")

    status = pr_comments.main(
        ["fork", "--stack", "dev", "--plan", str(plan), "--commit", "main", "--run-url", RUN]
    )

    assert status == 2
    assert capsys.readouterr().out == ""


def test_the_command_prints_the_comment(tmp_path, capsys):
    plan = tmp_path / "plan.md"
    plan.write_text("## Offline plan diff: `dev`")

    status = pr_comments.main(
        ["fork", "--stack", "dev", "--plan", str(plan), "--commit", COMMIT, "--run-url", RUN]
    )

    assert status == 0
    assert capsys.readouterr().out.startswith("### Offline plan of `dev`")

"""The workflows' Python scripts (.github/scripts/), importable by the tests: they import
each other as the workflows run them, from their own directory."""

from __future__ import annotations

import re
import sys

from tests.support.stacks import ROOT

SCRIPTS = ROOT / ".github" / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import pr_comments  # noqa: E402
import pr_preview  # noqa: E402

__all__ = ["SCRIPTS", "outside_fences", "pr_comments", "pr_preview"]


def outside_fences(comment: str) -> str:
    """A comment with its fenced text blocks removed: what GitHub renders as Markdown."""
    return re.sub(r"^(`{3,})text\n.*?^\1$", "", comment, flags=re.MULTILINE | re.DOTALL)

"""The code stays ruff clean: lint and format are part of the test suite."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stacks import ROOT

RUFF = Path(sys.executable).parent / "ruff"


@pytest.mark.lint
@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    result = subprocess.run(
        [RUFF, *command, "."], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

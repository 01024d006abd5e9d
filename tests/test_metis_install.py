"""The real Metis's test environment: installed by the project's own script, once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.metis_cli import INSTALL, install_metis
from tests.support.shellcheck import SHELLCHECK

pytestmark = pytest.mark.timeout(900)


@pytest.mark.lint
@pytest.mark.parametrize("script", ["install.sh", "relock.sh"])
def test_the_metis_tool_scripts_pass_shellcheck(script):
    done = subprocess.run(
        [SHELLCHECK, str(INSTALL.parent / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.e2e
def test_the_installed_metis_is_1_5_0():
    done = subprocess.run(
        [str(install_metis()), "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "Metis 1.5.0"


@pytest.mark.e2e
def test_a_second_install_reuses_the_venv():
    stamp = install_metis().parent.parent / ".metis-llm-stamp"
    built = stamp.stat().st_mtime_ns
    install_metis()
    assert stamp.stat().st_mtime_ns == built


@pytest.mark.e2e
def test_the_venv_is_not_committed():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(install_metis())],
        cwd=Path(INSTALL).parent,
        check=False,
    )
    assert ignored.returncode == 0

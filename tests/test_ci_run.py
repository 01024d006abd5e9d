"""`.ci/run` names a missing prerequisite with its fix before it installs anything, instead
of failing later with a traceback. Run with a PATH holding only what each case needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stacks import ROOT

DEBIAN_VENV_ERROR = (
    "The virtual environment was not successfully created because ensurepip is not\n"
    "available.  On Debian/Ubuntu systems, you need to install the python3-venv\n"
    "package using the following command.\n"
)
"""What Debian's python3 prints for `python3 -m venv` without python3-venv (Debian's venv
patch; quoted in many projects' troubleshooting notes), exiting 1."""


PYTHON_3_12 = "#!/bin/sh\nexit 0\n"
"""A `python3.12` that passes the version check (the one thing `.ci/run` asks of it)."""


def _bin(
    tmp_path: Path, *tools: str, python3: str | None = None, python312: str | None = None
) -> Path:
    """A directory with the named tools linked in, `python3` (real, or a script) and, when
    given, a `python3.12` script."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("bash", "dirname", *tools):
        (directory / tool).symlink_to(shutil.which(tool))
    scripts = {"python3": python3, "python3.12": python312}
    if python3 is None:
        (directory / "python3").symlink_to(sys.executable)
        del scripts["python3"]
    for name, text in scripts.items():
        if text is not None:
            (directory / name).write_text(text)
            (directory / name).chmod(0o755)
    return directory


def _ci_run(path: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(cwd / ".ci" / "run")],
        env={**os.environ, "PATH": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_node_it_says_to_install_node(tmp_path):
    result = _ci_run(_bin(tmp_path))

    assert result.returncode == 1
    assert "install Node.js 20+ with npm" in result.stderr
    assert "Traceback" not in result.stderr


def test_with_an_old_python_it_names_the_version_needed(tmp_path):
    old_python = "#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.10.12'\nexit 1\n"

    result = _ci_run(_bin(tmp_path, python3=old_python))

    assert result.returncode == 1
    assert "Python 3.11 or newer is needed, found Python 3.10.12" in result.stderr


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to get past the node check")
def test_without_the_venv_module_it_says_to_install_python3_venv(tmp_path):
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", clone / ".ci" / "run")
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    debian_python = (
        f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = venv ]; then\n'
        f"  printf '%s' '{DEBIAN_VENV_ERROR}'; exit 1\nfi\nexec {sys.executable} \"$@\"\n"
    )

    path = _bin(tmp_path, "node", "npm", python3=debian_python, python312=PYTHON_3_12)
    result = _ci_run(path, cwd=clone)

    assert result.returncode == 1
    assert "sudo apt-get install python3-venv" in result.stderr
    assert not (clone / ".tools").exists()


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to get past the node check")
def test_without_python_3_12_it_says_metis_needs_it(tmp_path):
    result = _ci_run(_bin(tmp_path, "node", "npm"))

    assert result.returncode == 1
    assert "which needs Python 3.12 or newer" in result.stderr
    assert "METIS_PYTHON" in result.stderr

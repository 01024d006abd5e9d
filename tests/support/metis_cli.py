"""The real Metis 1.5.0 CLI for end-to-end tests: installed once, driven like a user would.

`tools/metis/install.sh` builds Metis's own Python 3.12 venv (cached in the checkout; a few
seconds with a warm uv cache) the first time a test asks for it. Metis runs its interactive
prompt with the commands on stdin (it has no batch mode for single commands), from the
codebase directory, with only the router key in its environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.fake_vllm import FunctionCallRequest, ToolArguments, smallest_instance

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "tools" / "metis" / "install.sh"
MACHINE_ENV = dict(os.environ)
"""The environment as the test session found it, before any test fixture changed it: the
install fetches from PyPI and must trust what this machine trusts, not a test router's CA
(the e2e tier points SSL_CERT_FILE at one, `tests/conftest.py`)."""
FILE_IN_PROMPT = re.compile(r"^FILE: (?P<path>.+)$", re.MULTILINE)
"""How Metis names the reviewed file in a review prompt (simple_llm_review/graph.py)."""


def install_metis() -> Path:
    """The `metis` command, installed first if needed (network only on the first run)."""
    done = subprocess.run(
        ["bash", str(INSTALL)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=MACHINE_ENV,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{INSTALL} failed:\n{done.stdout}\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def ca_bundle(metis: Path, ca_file: Path, bundle: Path) -> Path:
    """What the rendered metis.yaml tells users to build: Metis's Python's certifi roots
    (`python3 -m certifi`) followed by the router's CA."""
    roots = subprocess.run(
        [str(metis.with_name("python")), "-m", "certifi"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    bundle.write_text(Path(roots).read_text() + ca_file.read_text())
    return bundle


@dataclass(frozen=True)
class MetisRun:
    """One Metis session: its console output and exit code."""

    returncode: int
    output: str


def run_metis(
    metis: Path,
    *,
    config: Path,
    codebase: Path,
    commands: Sequence[str],
    api_key: str,
    home: Path,
    ssl_cert_file: Path | None = None,
    timeout: float = 300,
) -> MetisRun:
    """Metis's interactive prompt in `codebase`, fed `commands` then `exit`; the environment
    holds the router key and, when given, the CA bundle (nothing else from this machine)."""
    done = subprocess.run(
        [
            *(str(metis), "--interactive", "--config", str(config)),
            *("--codebase-path", str(codebase), "--chroma-dir", str(home / "chroma")),
        ],
        input="".join(f"{command}\n" for command in [*commands, "exit"]),
        cwd=codebase,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "VLLM_API_KEY": api_key,
            "NO_COLOR": "1",
            **({"SSL_CERT_FILE": str(ssl_cert_file)} if ssl_cert_file else {}),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return MetisRun(done.returncode, done.stdout + done.stderr)


def reviewed_file(call: FunctionCallRequest) -> str | None:
    """The file a Metis review prompt is about, relative to the codebase's parent."""
    match = FILE_IN_PROMPT.search(call.prompt_text)
    return match["path"].strip() if match else None


REVIEW_TOOL = "ReviewResponseModel"
"""The function Metis forces for a review (simple_llm_review/schema.py)."""


def findings_by_file(findings: Mapping[str, Sequence[Mapping[str, Any]]]) -> ToolArguments:
    """Script a review: for a prompt about a file whose path ends with a key, those findings
    (Metis's ReviewResponseModel arguments); none for any other file. Metis's other calls
    (e.g. DeduplicationDecision, when several findings come back) get the smallest answer
    their schema accepts: nothing merged."""

    def arguments(call: FunctionCallRequest) -> Any:
        if call.name != REVIEW_TOOL:
            return smallest_instance(call.parameters)
        path = reviewed_file(call) or ""
        for suffix, reviews in findings.items():
            if path.endswith(suffix):
                return {"reviews": [dict(review) for review in reviews]}
        return {"reviews": []}

    return arguments


@dataclass(frozen=True, order=True)
class SarifResult:
    """Where a SARIF result of Metis points, and the CWE Metis records in its properties."""

    uri: str
    start_line: int
    cwe: str


def sarif_results(path: Path) -> list[SarifResult]:
    """Every result of a SARIF report, in order."""
    report = json.loads(path.read_text())
    return [
        SarifResult(
            uri=location["physicalLocation"]["artifactLocation"]["uri"],
            start_line=location["physicalLocation"]["region"]["startLine"],
            cwe=result.get("properties", {}).get("cwe", ""),
        )
        for run in report["runs"]
        for result in run.get("results", [])
        for location in result["locations"][:1]
    ]

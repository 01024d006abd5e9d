"""The real Metis 1.5.0 reviews a codebase with known flaws through each stack's router.

For each stack file: the test vLLM servers start from the stack's rendered vLLM commands
(one loopback address per host, the real ports), the real LiteLLM proxy runs the rendered
router config, and Metis runs with the rendered metis.yaml, whose only change is the
router address. The chat servers play the model: for a review of a file with a seeded flaw
their function call carries that finding. The findings must come out of Metis's SARIF
reports at the right files and lines. Without the tool-call flags in the chat command, the
same run comes back empty, exit code 0: what the deploy's review readiness check catches.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.services import CHAT
from config.settings import Settings
from renderers.litellm import deployments
from renderers.metis import render_metis_config
from renderers.vllm import vllm_command
from testbed.fake_vllm import TOOL_CALL_FLAGS, FakeVllm, without_flags
from testbed.stack import loopback_addresses, replica_server, stack_router
from tests.config_cases import valid
from tests.support.metis_cli import (
    REVIEW_TOOL,
    MetisRun,
    SarifResult,
    ca_bundle,
    findings_by_file,
    install_metis,
    run_metis,
    sarif_results,
)
from tests.support.stacks import stack_raw_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROUTER_KEY = "sk-e2e-metis-router"
BACKEND_KEY = "e2e-metis-backend"


@dataclass(frozen=True)
class SeededFlaw:
    lines: tuple[str, ...]
    line: int
    """The flawed line (1-based)."""
    issue: str
    cwe: str

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def finding(self) -> dict[str, object]:
        """What a reviewing model reports for it (Metis's ReviewIssueModel)."""
        return {
            "issue": self.issue,
            "code_snippet": self.lines[self.line - 1].strip(),
            "start_line": self.line,
            "end_line": self.line,
            "reasoning": f"{self.issue}: untrusted input reaches it unchecked.",
            "mitigation": "Do not build it from untrusted input.",
            "confidence": 0.9,
            "cwe": self.cwe,
            "severity": "HIGH",
        }


FLAWS = {
    "app/run.py": SeededFlaw(
        (
            "import subprocess",
            "",
            "",
            "def list_dir(path: str) -> str:",
            '    return subprocess.check_output("ls " + path, shell=True, text=True)',
        ),
        line=5,
        issue="Command injection",
        cwe="CWE-78",
    ),
    "app/settings.py": SeededFlaw(
        ("DEBUG = False", 'API_TOKEN = "sk-live-metis-llm-test-not-a-real-key"', "TIMEOUT = 30"),
        line=2,
        issue="Hard-coded secret",
        cwe="CWE-798",
    ),
    "app/db.py": SeededFlaw(
        (
            "import sqlite3",
            "",
            "",
            "def find_user(conn: sqlite3.Connection, name: str):",
            '    query = "SELECT * FROM users WHERE name = \'" + name + "\'"',
            "    return conn.execute(query).fetchall()",
        ),
        line=5,
        issue="SQL injection",
        cwe="CWE-89",
    ),
}
DOCS = {"docs/design.md": "# Design\n\nThe service lists directories and looks users up.\n"}
"""Indexed by Metis through the embedding model (its code chunks need tree-sitter grammars
that tree-sitter-language-pack downloads from GitHub at first use; offline they are
skipped, see docs/reference/metis-review.md)."""


def expected(*paths: str) -> list[SarifResult]:
    return sorted(SarifResult(path, FLAWS[path].line, FLAWS[path].cwe) for path in paths)


@dataclass(frozen=True)
class Review:
    """One Metis session (index, review_file app/db.py, review_code) through a stack."""

    settings: Settings
    run: MetisRun
    file_report: list[SarifResult]
    code_report: list[SarifResult]
    replicas: dict[str, FakeVllm]

    def bodies(self, service: str, path: str) -> list[dict[str, Any]]:
        return [
            body
            for key, fake in self.replicas.items()
            if key.startswith(f"{service}-")
            for body in fake.bodies(path)
        ]

    def calls(self, function: str) -> list[dict[str, Any]]:
        """The chat requests offering that function."""
        return [
            body
            for body in self.bodies("chat", "/v1/responses")
            if [tool["name"] for tool in body.get("tools", [])] == [function]
        ]


def review_through(stack: str, workdir: Path, metis: Path, *, tool_flags: bool = True) -> Review:
    settings = valid(stack_raw_config(stack))
    addresses = loopback_addresses(settings)
    codebase, home = workdir / "code", workdir / "home"
    for path, text in {**{p: f.source for p, f in FLAWS.items()}, **DOCS}.items():
        (codebase / path).parent.mkdir(parents=True, exist_ok=True)
        (codebase / path).write_text(text)
    home.mkdir()
    script = findings_by_file({path: [flaw.finding] for path, flaw in FLAWS.items()})
    with ExitStack() as running:
        replicas = {}
        for deployment in deployments(settings):
            command = vllm_command(settings, deployment.service)
            if not tool_flags and deployment.service == CHAT.key:
                command = without_flags(command, *TOOL_CALL_FLAGS)
            fake = replica_server(
                settings, deployment, addresses, BACKEND_KEY, command=command, tool_arguments=script
            )
            replicas[deployment.deployment_id] = running.enter_context(fake)
        proxy = running.enter_context(
            stack_router(settings, addresses, router_key=ROUTER_KEY, backend_key=BACKEND_KEY)
        )
        config = workdir / "metis.yaml"
        config.write_text(render_metis_config(settings, proxy.base_url))
        run = run_metis(
            metis,
            config=config,
            codebase=codebase,
            commands=[
                "index",
                f"review_file app/db.py --output-file {workdir / 'file.sarif'}",
                f"review_code --output-file {workdir / 'code.sarif'}",
            ],
            api_key=ROUTER_KEY,
            home=home,
            ssl_cert_file=ca_bundle(metis, proxy.tls.ca_file, workdir / "ca-bundle.pem")
            if proxy.tls
            else None,
        )
    return Review(
        settings,
        run,
        sorted(sarif_results(workdir / "file.sarif")),
        sorted(sarif_results(workdir / "code.sarif")),
        replicas,
    )


@pytest.fixture(scope="session")
def metis() -> Path:
    return install_metis()


@pytest.fixture(scope="module", params=["dev", "prod"])
def reviewed(
    request: pytest.FixtureRequest, metis: Path, tmp_path_factory: pytest.TempPathFactory
) -> Review:
    return review_through(request.param, tmp_path_factory.mktemp(request.param), metis)


@pytest.fixture(scope="module")
def reviewed_without_tool_flags(metis: Path, tmp_path_factory: pytest.TempPathFactory) -> Review:
    return review_through("dev", tmp_path_factory.mktemp("no-tool-flags"), metis, tool_flags=False)


def test_metis_exits_cleanly(reviewed: Review):
    assert reviewed.run.returncode == 0, reviewed.run.output


def test_metis_indexes_the_codebase_through_the_embedding_model(reviewed: Review):
    assert reviewed.bodies("embedding", "/v1/embeddings")


def test_review_file_reports_the_seeded_flaw_of_that_file(reviewed: Review):
    assert reviewed.file_report == expected("app/db.py"), reviewed.run.output


def test_review_code_reports_every_seeded_flaw_at_its_file_and_line(reviewed: Review):
    assert reviewed.code_report == expected(*FLAWS), reviewed.run.output


def test_each_file_got_one_review_call(reviewed: Review):
    assert len(reviewed.calls(REVIEW_TOOL)) == 1 + len(FLAWS)  # review_file, then each file


def test_every_chat_request_was_one_forced_function_call(reviewed: Review):
    for body in reviewed.bodies("chat", "/v1/responses"):
        (tool,) = body["tools"]
        assert body["tool_choice"] == {"type": "function", "name": tool["name"]}
        assert body["parallel_tool_calls"] is False


def test_without_the_tool_flags_metis_finds_nothing_and_says_all_is_well(
    reviewed_without_tool_flags: Review,
):
    review = reviewed_without_tool_flags
    assert review.run.returncode == 0
    assert "No security issues found!" in review.run.output
    assert (review.file_report, review.code_report) == ([], [])
    assert len(review.calls(REVIEW_TOOL)) == 1 + len(FLAWS)

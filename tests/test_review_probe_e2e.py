"""The review readiness probe against the real LiteLLM proxy and the test vLLM servers.

The dev stack's rendered router config runs in the real proxy, its vLLM servers start from
the rendered commands, and the probe program runs as the deploy runs it: the rendered
shell command, through a stand-in for ssh and for `sudo docker exec` (which runs it with
the router key in its environment, as the router container has it). It passes when the
chat model answers with a function call, and fails with the reason when it does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from renderers.certificates import CA_FILE
from renderers.litellm import deployments
from renderers.review_probe import PROBE_FUNCTION, review_probe_script
from renderers.vllm import vllm_command
from testbed.fake_vllm import TOOL_CALL_FLAGS, FakeVllm, without_flags
from testbed.stack import loopback_addresses, replica_server, stack_router
from tests.config_cases import valid
from tests.support.stacks import stack_raw_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROUTER_KEY = "sk-e2e-probe-router"
BACKEND_KEY = "e2e-probe-backend"
FAKE_SSH = ["bash", "-c", 'exec bash -c "$*"', "ssh"]
"""Plays ssh's part: the remaining arguments joined by spaces, run by the remote shell."""
FAKE_SUDO_DOCKER_EXEC = f"""#!/bin/sh
# sudo -n docker exec litellm python3 -c PROGRAM CONFIG: run python3 -c PROGRAM CONFIG,
# with the container's /app (where the router's CA is uploaded) at $FAKE_APP_DIR.
shift 5
exec {sys.executable} "$1" "$2" "$(printf %s "$3" | sed "s|/app/|$FAKE_APP_DIR/|g")"
"""


@dataclass
class Backend:
    settings: Settings
    """The dev stack's, with the router port the test proxy listens on."""
    chat: FakeVllm
    bin_dir: Path
    app_dir: Path
    """Plays the router container's /app: the CA file the probe trusts."""

    def probe(self, router_key: str | None = ROUTER_KEY) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.bin_dir}:{os.environ['PATH']}", "FAKE_APP_DIR": str(self.app_dir)}
        if router_key is not None:
            env["LITELLM_MASTER_KEY"] = router_key
        return subprocess.run(
            ["/bin/bash", "-c", review_probe_script(FAKE_SSH, self.settings)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def serve_chat(self, command: list[str], **options: Any) -> None:
        """Replace the chat server by one started from another command, same address."""
        host, port = self.chat.host, self.chat.port
        self.chat.kill()
        self.chat = FakeVllm.from_command(
            command, BACKEND_KEY, host=host, port=port, **options
        ).start()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    settings = valid(stack_raw_config("dev"))
    addresses = loopback_addresses(settings)
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "sudo").write_text(FAKE_SUDO_DOCKER_EXEC)
    (bin_dir / "sudo").chmod(0o755)
    with ExitStack() as running:
        servers = {
            deployment.service: replica_server(settings, deployment, addresses, BACKEND_KEY).start()
            for deployment in deployments(settings)
        }
        proxy = running.enter_context(
            stack_router(settings, addresses, router_key=ROUTER_KEY, backend_key=BACKEND_KEY)
        )
        router = settings.router.model_copy(update={"port": proxy.port})
        app_dir = tmp_path_factory.mktemp("app")
        assert proxy.tls is not None
        (app_dir / Path(CA_FILE).name).write_bytes(proxy.tls.ca_file.read_bytes())
        state = Backend(
            settings.model_copy(update={"router": router}), servers["chat"], bin_dir, app_dir
        )
        try:
            yield state
        finally:
            state.chat.kill()
            servers["embedding"].kill()


@pytest.fixture
def chat_command(backend: Backend) -> Iterator[list[str]]:
    """The rendered chat command; the test's chat server is restored afterwards."""
    command = vllm_command(backend.settings, "chat")
    yield command
    backend.serve_chat(command)


def test_the_probe_passes_when_the_chat_model_answers_with_a_function_call(backend: Backend):
    done = backend.probe()
    assert done.returncode == 0, done.stderr
    assert f"answered with a valid {PROBE_FUNCTION} function call" in done.stdout


def test_the_probe_sends_a_forced_function_call_through_the_router(backend: Backend):
    backend.probe()
    body = backend.chat.bodies("/v1/responses")[-1]
    assert body["tool_choice"] == {"type": "function", "name": PROBE_FUNCTION}
    assert body["parallel_tool_calls"] is False


def test_without_the_tool_flags_the_probe_fails_and_says_why(backend: Backend, chat_command):
    backend.serve_chat(without_flags(chat_command, *TOOL_CALL_FLAGS))
    done = backend.probe()
    assert done.returncode == 1
    assert "with message (status completed), not a function call" in done.stderr
    assert "--tool-call-parser" in done.stderr


def test_arguments_that_break_the_schema_fail_the_probe(backend: Backend, chat_command):
    unpinned = without_flags(chat_command, "--tool-strict-level")
    backend.serve_chat(unpinned, tool_arguments=lambda call: {"reviews": [{"issue": ""}]})
    done = backend.probe()
    assert done.returncode == 1
    assert "do not fit their schema" in done.stderr


def test_a_wrong_router_key_fails_the_probe_at_once(backend: Backend):
    done = backend.probe(router_key="sk-not-the-router-key")
    assert done.returncode == 1
    assert "the router answered 4" in done.stderr


def test_the_probe_needs_the_key_in_its_environment(backend: Backend):
    done = backend.probe(router_key=None)
    assert done.returncode == 1
    assert "LITELLM_MASTER_KEY is not set" in done.stderr

"""The review readiness probe: what it sends, where it runs, and how it gets there."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from renderers.review_probe import (
    PROBE_FUNCTION,
    review_probe_command,
    review_probe_config,
    review_probe_program,
    review_probe_script,
)
from tests.config_cases import valid, with_changes

FAKE_SSH = ["bash", "-c", 'exec bash -c "$*"', "ssh"]
"""Plays ssh's part: the remaining arguments joined by spaces, run by the remote shell."""


def test_the_probe_asks_the_way_metis_asks_for_a_review(minimal_raw):
    request = review_probe_config(valid(minimal_raw))["request"]
    (tool,) = request["tools"]
    assert (tool["type"], tool["name"]) == ("function", PROBE_FUNCTION)
    assert request["tool_choice"] == {"type": "function", "name": PROBE_FUNCTION}
    assert (request["parallel_tool_calls"], request["temperature"]) == (False, 0)


def test_the_probe_asks_the_chat_model_by_its_served_name(minimal_raw):
    raw = with_changes(minimal_raw, chat={"served_name": "coder"})
    assert review_probe_config(valid(raw))["request"]["model"] == "coder"


def test_the_probe_leaves_the_model_metis_output_budget(minimal_raw):
    raw = with_changes(minimal_raw, metis={"query_max_tokens": 2048})
    assert review_probe_config(valid(raw))["request"]["max_output_tokens"] == 2048


def test_the_probe_calls_the_router_port_inside_its_container_over_https(minimal_raw):
    raw = with_changes(minimal_raw, router={"port": 9999})
    config = review_probe_config(valid(raw))
    assert config["url"] == "https://127.0.0.1:9999/v1/responses"
    assert config["ca_file"] == "/app/router-ca.pem"


def test_the_probe_calls_plain_http_only_when_the_router_serves_it(minimal_raw):
    raw = with_changes(minimal_raw, router={"plain_http": True})
    config = review_probe_config(valid(raw))
    assert config["url"] == "http://127.0.0.1:8888/v1/responses"
    assert config["ca_file"] is None


def test_the_probe_runs_in_the_router_container_without_a_password_prompt(minimal_raw):
    command = review_probe_command(valid(minimal_raw))
    assert command[:7] == ["sudo", "-n", "docker", "exec", "litellm", "python3", "-c"]


def test_the_probe_command_carries_no_key(minimal_raw):
    command = " ".join(review_probe_command(valid(minimal_raw)))
    assert "sk-" not in command
    assert "LITELLM_MASTER_KEY=" not in command


def test_the_probe_program_is_python(minimal_raw):
    compile(review_probe_program(), "review_probe.py", "exec")


def test_over_ssh_the_remote_shell_gets_the_command_word_for_word(minimal_raw, tmp_path: Path):
    settings = valid(minimal_raw)
    sudo = tmp_path / "sudo"
    sudo.write_text(
        "#!/bin/sh\nexec python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\"\n"
    )
    sudo.chmod(0o755)
    done = subprocess.run(
        ["/bin/bash", "-c", review_probe_script(FAKE_SSH, settings)],
        capture_output=True,
        text=True,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        check=True,
    )
    assert json.loads(done.stdout) == review_probe_command(settings)[1:]

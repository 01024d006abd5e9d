"""Review readiness: after `pulumi up`, one review-shaped request proves reviews work.

Metis's reviews are forced function calls on `/v1/responses`. A chat model served without
its tool-call flags answers them with text and status 200, and Metis then prints "No
security issues found!", writes an empty SARIF report and exits 0. Container health checks
cannot see that. So the deploy sends one request of the same shape (a function tool with
a schema, `tool_choice` naming it, `parallel_tool_calls: false`, temperature 0, Metis's
output budget) through the router, from inside the router container, and fails unless the
answer is a valid function call. The program is `scripts/review_probe.py`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from config.settings import Settings
from renderers.certificates import CA_FILE
from renderers.litellm import CONTAINER_NAME
from renderers.script_files import script_text

PROBE_FUNCTION = "ReviewProbe"
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reviews": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "issue": {"type": "string", "minLength": 1},
                    "start_line": {"type": "integer"},
                    "severity": {"type": "string", "enum": ["LOW", "MEDIUM", "HIGH", "CRITICAL"]},
                },
                "required": ["issue", "start_line", "severity"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["reviews"],
    "additionalProperties": False,
}
"""Shaped like Metis's ReviewResponseModel, small, and within what xgrammar compiles."""
PROBE_INPUT = [
    {
        "role": "system",
        "content": "You are a security reviewer. Report every vulnerability of the FILE "
        f"with the {PROBE_FUNCTION} function; report none if there is none.",
    },
    {"role": "user", "content": "FILE: probe.py\nSNIPPET:\n1: import os\n2: os.system(input())\n"},
]
ATTEMPTS = 3
RETRY_SECONDS = 10
TIMEOUT_SECONDS = 300
"""Per attempt: a first generation on a cold GPU can take a while."""


def review_probe_config(settings: Settings) -> dict[str, Any]:
    """What the probe sends where, and the schema its answer must fit."""
    scheme = "http" if settings.router.plain_http else "https"
    return {
        "url": f"{scheme}://127.0.0.1:{settings.router.port}/v1/responses",
        "ca_file": None if settings.router.plain_http else CA_FILE,
        "function": PROBE_FUNCTION,
        "schema": PROBE_SCHEMA,
        "request": {
            "model": settings.chat.served_name,
            "input": PROBE_INPUT,
            "tools": [{"type": "function", "name": PROBE_FUNCTION, "parameters": PROBE_SCHEMA}],
            "tool_choice": {"type": "function", "name": PROBE_FUNCTION},
            "parallel_tool_calls": False,
            "temperature": 0,
            "max_output_tokens": settings.metis.query_max_tokens,
            "stream": False,
        },
        "attempts": ATTEMPTS,
        "retry_seconds": RETRY_SECONDS,
        "timeout_seconds": TIMEOUT_SECONDS,
    }


def review_probe_program() -> str:
    return script_text("review_probe.py")


def review_probe_command(settings: Settings) -> list[str]:
    """Run on the router host: the probe inside the router container, whose environment
    holds the router key. `sudo -n`: the login may predate its docker group membership,
    and must fail rather than wait for a password."""
    return [
        *("sudo", "-n", "docker", "exec", CONTAINER_NAME, "python3", "-c"),
        review_probe_program(),
        json.dumps(review_probe_config(settings), separators=(",", ":")),
    ]


def review_probe_script(ssh_argv: Sequence[str], settings: Settings) -> str:
    """The local shell command: the probe over SSH on the router host (`ssh_argv` is
    the host's own, as its readiness step uses it)."""
    return shlex.join([*ssh_argv, shlex.join(review_probe_command(settings))])

"""A scripted `pulumi` executable for the preview script's tests (no CLI installs here).

Each call prints what a scenario gives for its subcommand (`login`, `stack select`,
`preview`) and exits with its status; every call is appended to a log. The canned messages
are the real ones, from their sources:
- `error: no stack named 'prod' found`: `StackNotFoundError`, pulumi/pulumi v3.259.0
  pkg/backend/backenderr/backenderr.go:47, printed by `pulumi stack select`;
- `Error pinging Docker server, please make sure that ... is reachable ...`:
  kreuzwerker/terraform-provider-docker v4.5.0 (pulumi-docker 5.2.0) config.go:198, when a
  Docker provider first dials its host (create, read, update, delete, or a refresh);
- `command [ssh ... docker system dial-stdio] has exited with exit status 255, make sure the
  URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=...`:
  docker/cli cli/connhelper/commandconn/commandconn.go, the SSH transport failing;
- `... is not authorized to perform: ssm:GetParameter on resource ...`: AWS's AccessDenied
  message for a missing permission.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

NO_STACK = "error: no stack named '{stack}' found\n"
DOCKER_UNREACHABLE = (
    "  docker:index/container:Container (metis-llm-chat-gpu-1-container):\n"
    "    error: Error pinging Docker server, please make sure that ssh://ubuntu@i-0abc is"
    " reachable and has a  '_ping' endpoint. Error: error during connect: Get"
    ' "http://docker.example.com/_ping": command [ssh -o BatchMode=yes -T -- ubuntu@i-0abc'
    " docker system dial-stdio] has exited with exit status 255, make sure the URL is valid,"
    " and Docker 18.09 or later is installed on the remote host: stderr=/bin/sh: 1: aws: not"
    " found\n"
)
ACCESS_DENIED = (
    "  aws:ssm/getParameter:getParameter:\n"
    "    error: reading SSM Parameter: AccessDeniedException: User: arn:aws:sts::123456789012:"
    "assumed-role/metis-llm-preview/gh is not authorized to perform: ssm:GetParameter on"
    " resource: arn:aws:ssm:us-east-1::parameter/aws/service/deeplearning/ami\n"
)
PREVIEW_OK = (
    "Previewing update (dev)\n\n"
    "     Type                             Name                            Plan\n"
    "     pulumi:pulumi:Stack              metis-llm-dev\n"
    " ~   └─ docker:index/container:Container  metis-llm-chat-gpu-1-container  update\n\n"
    "Resources:\n    ~ 1 to update\n    27 unchanged\n"
)

SCRIPT = """\
#!{python}
import json, sys
scenario = json.load(open({scenario!r}))
with open({calls!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
words = [w for w in sys.argv[1:] if not w.startswith("-")]
key = "stack select" if words[:2] == ["stack", "select"] else words[0]
output, status = scenario.get(key, ["", 0])
sys.stdout.write(output)
sys.exit(status)
"""


def install(directory: Path, scenario: dict[str, tuple[str, int]]) -> Path:
    """A `pulumi` in `directory` playing `scenario`; returns the file its calls go to."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "scenario.json").write_text(json.dumps(scenario))
    calls = directory / "calls.jsonl"
    executable = directory / "pulumi"
    executable.write_text(
        SCRIPT.format(
            python=sys.executable, scenario=str(directory / "scenario.json"), calls=str(calls)
        )
    )
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    return calls


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

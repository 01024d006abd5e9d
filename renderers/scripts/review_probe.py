"""The review readiness probe, run in the router container after `pulumi up`.

`docker exec litellm python3 -c <this file> <config JSON>` sends one forced function call
through the router, shaped like Metis's review requests, and exits 1 with the reason on
stderr unless the answer holds that function call with arguments that fit its schema.
Standard library only (the image's Python); the router key comes from the container's own
environment, so it never appears on a command line. renderers/review_probe.py renders the
config and the command.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from typing import Any, NoReturn

KEY_ENV = "LITELLM_MASTER_KEY"
JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def fail(message: str) -> NoReturn:
    print(f"review readiness FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def schema_errors(value: Any, schema: dict[str, Any], where: str = "arguments") -> list[str]:
    """What breaks the schema, for the keywords the probe's schema uses."""
    kind = schema.get("type")
    if kind is not None and (
        not isinstance(value, JSON_TYPES[kind]) or (isinstance(value, bool) and kind != "boolean")
    ):
        return [f"{where} is not a {kind}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where} is not one of {schema['enum']}")
    if kind == "string" and len(value) < schema.get("minLength", 0):
        errors.append(f"{where} is shorter than {schema['minLength']}")
    if kind == "object":
        properties = schema.get("properties", {})
        errors += [f"{where}.{name} is missing" for name in schema.get("required", [])
                   if name not in value]  # fmt: skip
        for name, item in value.items():
            if name in properties:
                errors += schema_errors(item, properties[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}.{name} is not allowed")
    if kind == "array":
        for index, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), f"{where}[{index}]")
    return errors


def tls_context(config: dict[str, Any]) -> ssl.SSLContext | None:
    """Over HTTPS, trust the stack's CA. The certificate names the public address: in the
    router container the probe calls 127.0.0.1, so the chain is checked and the name is not;
    `python -m ops`, calling the public address, checks the name too (`check_hostname`)."""
    if not config.get("ca_file"):
        return None
    context = ssl.create_default_context(cafile=config["ca_file"])
    context.check_hostname = bool(config.get("check_hostname"))
    return context


def ask(config: dict[str, Any], key: str) -> dict[str, Any]:
    """The router's answer; transport errors, 429 and 5xx are retried, other errors not."""
    context = tls_context(config)
    request = urllib.request.Request(
        config["url"],
        data=json.dumps(config["request"]).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    problem = "no attempt made"
    for attempt in range(1, config["attempts"] + 1):
        try:
            with urllib.request.urlopen(
                request, timeout=config["timeout_seconds"], context=context
            ) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            problem = f"the router answered {error.code}: {error.read().decode(errors='replace')}"
            if error.code < 500 and error.code != 429:
                fail(problem[:800])
        except OSError as error:
            problem = f"the router did not answer: {error}"
        if attempt < config["attempts"]:
            time.sleep(config["retry_seconds"])
    fail(f"{problem[:800]} (after {config['attempts']} attempts)")


def check(answer: dict[str, Any], config: dict[str, Any]) -> str:
    """What the probe reports when the answer is a valid call; fails otherwise."""
    model, function = config["request"]["model"], config["function"]
    output = answer.get("output") or []
    calls = [item for item in output if item.get("type") == "function_call"]
    if not calls:
        kinds = ", ".join(str(item.get("type")) for item in output) or "no output"
        fail(
            f"{model} answered a forced call of {function} with {kinds} (status "
            f"{answer.get('status')}), not a function call: Metis's reviews would report no "
            "findings. Its vLLM command needs its family's tool-call flags "
            "(--enable-auto-tool-choice, --tool-call-parser); see the README, Metis reviews"
        )
    call = calls[0]
    if call.get("name") != function:
        fail(f"{model} called {call.get('name')!r} instead of the forced {function}")
    try:
        arguments = json.loads(call.get("arguments") or "")
    except ValueError:
        fail(f"{model}'s {function} arguments are not JSON: {call.get('arguments')!r:.300}")
    errors = schema_errors(arguments, config["schema"])
    if errors:
        fail(
            f"{model}'s {function} arguments do not fit their schema ({'; '.join(errors[:5])}): "
            "Metis would drop such reviews"
        )
    return f"review readiness: {model} answered with a valid {function} function call"


def main() -> None:
    config = json.loads(sys.argv[1])
    key = os.environ.get(KEY_ENV)
    if not key:
        fail(f"{KEY_ENV} is not set in this container")
    print(check(ask(config, key), config))


if __name__ == "__main__":
    main()

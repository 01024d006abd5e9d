"""What `wake` asks the router before it calls the stack ready: each check returns None when
it passed, or what is wrong, over the standard library's urllib. Every URL starts from the
discovery record's `router_url`, the program's `router_url` output (components/router.py):
its scheme is decided there alone.

Over HTTPS the router is verified, name and chain, against the record's
`router_ca_certificate` alone when the stack has its own CA, and against the default public
roots when it has none (a domain's ACM certificate). A certificate that does not verify
fails the wake at once: nothing else is sent to that address, the key least of all.

The review check runs renderers/scripts/review_probe.py, the probe the deploy itself runs
in the router container, here against the router's public URL with the key Metis uses."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from botocore.httpsession import where as public_roots_file

from ops.stack import OpsError

REVIEW_PROBE = Path(__file__).resolve().parent.parent / "renderers" / "scripts" / "review_probe.py"
PROBE_KEY_ENV = "LITELLM_MASTER_KEY"
"""Where the probe reads the key (in the router container, the router's own variable)."""
TRANSIENT_PROBE_FAILURES = (
    "the router answered 5",
    "the router answered 429",
    "the router did not answer",
)
"""The probe's own words for a router or backend not answering yet (review_probe.py `ask`)."""


class UntrustedRouterError(OpsError):
    """The router's certificate does not verify against what the record says to trust."""


def tls_context(record: dict[str, Any]) -> ssl.SSLContext | None:
    """The stack's own CA and nothing else, checking the name too; None (urllib's default:
    the public roots) when the stack has no CA of its own."""
    ca = record.get("router_ca_certificate")
    return ssl.create_default_context(cadata=ca) if ca else None


def ca_bundle(record: dict[str, Any]) -> str | None:
    """What Metis's clients need in SSL_CERT_FILE (renderers/metis.py, docs/reference/https.md):
    the public roots (certifi's, which botocore's `where` returns when certifi is installed,
    else botocore's own copy of them) followed by the stack's CA; None without a CA."""
    ca = record.get("router_ca_certificate")
    if not ca:
        return None
    roots = Path(public_roots_file()).read_text()
    return roots + ("" if roots.endswith("\n") else "\n") + ca


def _call(
    record: dict[str, Any], url: str, key: str | None, body: Any, timeout: float
) -> tuple[int, Any]:
    """(status, parsed JSON body or text); status 0 when nothing answered."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(
            request, timeout=timeout, context=tls_context(record)
        ) as answer:
            status, text = answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    except (OSError, ValueError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise _untrusted(record, reason) from None
        return 0, f"no answer ({reason})"
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def router_base(record: dict[str, Any]) -> str:
    """`https://address:port` (or http), from the record's `.../v1` router URL."""
    return record["router_url"].removesuffix("/v1")


def _untrusted(record: dict[str, Any], error: ssl.SSLCertVerificationError) -> OpsError:
    trusted = (
        "the stack's CA (router_ca_certificate in its discovery record)"
        if record.get("router_ca_certificate")
        else "the public roots"
    )
    return UntrustedRouterError(
        f"the router at {router_base(record)} presents a certificate that does not verify "
        f"against {trusted}: {error.verify_message or error.reason}. Nothing was sent to it; "
        "if the stack was redeployed meanwhile, run wake again, otherwise what answers "
        "there is not this stack's router"
    )


def liveliness(record: dict[str, Any], timeout: float) -> str | None:
    status, body = _call(record, router_base(record) + record["health_path"], None, None, timeout)
    return None if status == 200 else f"{record['health_path']}: {_said(status, body)}"


def models(record: dict[str, Any], key: str, timeout: float) -> str | None:
    """Both served models listed (LiteLLM lists its config's models, up or not)."""
    status, body = _call(record, record["router_url"] + "/models", key, None, timeout)
    if status != 200:
        return f"/v1/models: {_said(status, body)}"
    listed = {item.get("id") for item in body.get("data", [])} if isinstance(body, dict) else set()
    wanted = {record["models"]["chat"], record["models"]["embedding"]}
    missing = sorted(wanted - listed)
    return f"/v1/models does not list {', '.join(missing)}" if missing else None


def embedding(record: dict[str, Any], key: str, timeout: float) -> str | None:
    """One embedding of the stack's dimension: the embedding server answers."""
    name, dimension = record["models"]["embedding"], record["models"]["embed_dim"]
    status, body = _call(
        record,
        record["router_url"] + "/embeddings",
        key,
        {"model": name, "input": ["wake"]},
        timeout,
    )
    if status != 200:
        return f"{name}: {_said(status, body)}"
    vector = body["data"][0]["embedding"] if isinstance(body, dict) and body.get("data") else []
    if len(vector) != dimension:
        return f"{name} answered a vector of {len(vector)} numbers, not {dimension}"
    return None


def review(record: dict[str, Any], key: str, timeout: float) -> tuple[str | None, bool]:
    """(problem, transient): one review-shaped forced function call through the router,
    trusting what the other checks trust, name included."""
    with tempfile.TemporaryDirectory(prefix="metis-llm-ops-") as directory:
        ca_file = None
        if record.get("router_ca_certificate"):
            ca_file = Path(directory) / "router-ca.pem"
            ca_file.write_text(record["router_ca_certificate"])
        config = {
            **record["review_probe"],
            "url": record["router_url"] + "/responses",
            "ca_file": str(ca_file) if ca_file else None,
            "check_hostname": True,
            "schema": record["review_probe"]["request"]["tools"][0]["parameters"],
            "attempts": 1,
            "retry_seconds": 0,
            "timeout_seconds": timeout,
        }
        try:
            done = subprocess.run(
                [sys.executable, str(REVIEW_PROBE), json.dumps(config)],
                env={"PATH": os.environ.get("PATH", ""), PROBE_KEY_ENV: key},
                capture_output=True,
                text=True,
                timeout=timeout + 10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "the review probe got no answer", True
    if done.returncode == 0:
        return None, False
    message = done.stderr.strip().removeprefix("review readiness FAILED: ")
    return message, message.startswith(TRANSIENT_PROBE_FAILURES)


def _said(status: int, body: Any) -> str:
    if status == 0:
        return str(body)
    text = body if isinstance(body, str) else json.dumps(body)
    return f"answered {status} {text[:200]}"

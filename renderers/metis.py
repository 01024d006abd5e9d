"""The metis.yaml that points Metis at the router.

Metis reads it with plain `yaml.safe_load` and expands nothing, so it holds real values.
It holds no key: Metis reads the router key from `$VLLM_API_KEY`.
"""

from __future__ import annotations

from typing import Any

import yaml

from config.discovery import CA_BUNDLE
from config.settings import Settings

NO_TOKEN_COUNTING = {"check_embedding_ctx_length": False}
"""Without it LangChain sends tiktoken token ids, which vLLM's embedding models misread."""

HEADER = """\
# metis.yaml for Metis {version}, rendered by metis-llm from the stack's settings.
# No key in this file. Metis reads the router key from the environment:
#   export VLLM_API_KEY="$(pulumi stack output api_key --show-secrets)"
"""

TRUST: dict[str, str] = {
    "self-signed": f"""\
# The router serves HTTPS with a certificate of this stack's own CA. Metis's clients
# (openai/httpx) trust the one CA file SSL_CERT_FILE names, instead of their public roots:
# give them a bundle of the public roots plus this CA, in the shell that runs metis:
#   pulumi stack output router_ca_certificate > metis-llm-ca.pem
#   cat "$(python3 -m certifi)" metis-llm-ca.pem > {CA_BUNDLE}
#   export SSL_CERT_FILE="$PWD/{CA_BUNDLE}"
# (python3: any Python with certifi, e.g. Metis's own. REQUESTS_CA_BUNDLE and the OS trust
# store are not read, and SSL_CERT_FILE wins over SSL_CERT_DIR.)
""",
    "domain": """\
# The router serves HTTPS under its domain with a public (ACM) certificate: Metis trusts
# it with its default roots, nothing to set up.
""",
    "plain-http": """\
# WARNING: plain HTTP (metis-llm:router.plain_http): the code under review and the router
# key cross the network in clear text.
""",
}
"""How Metis trusts the router, per TLS mode (docs/reference/https.md)."""


def metis_config(settings: Settings, router_url: str) -> dict[str, Any]:
    chat, embedding, metis = settings.chat, settings.embedding, settings.metis
    provider: dict[str, Any] = {"name": "vllm", "base_url": router_url, "model": chat.served_name}
    embedding_models = {
        "code_embedding_model": embedding.served_name,
        "docs_embedding_model": embedding.served_name,
    }
    config: dict[str, Any] = {"llm_provider": provider}
    if metis.layout == "1.5":
        config["embedding_provider"] = {
            "name": "vllm",
            "base_url": router_url,
            **embedding_models,
            "code_extra_kwargs": dict(NO_TOKEN_COUNTING),
            "docs_extra_kwargs": dict(NO_TOKEN_COUNTING),
        }
    else:
        provider.update(embedding_models)
    config["metis_engine"] = {
        "embed_dim": embedding.dimension,
        "doc_chunk_size": metis.doc_chunk_size,
        "doc_chunk_overlap": metis.doc_chunk_overlap,
        "max_token_length": metis.max_token_length,
    }
    config["query"] = {
        "model": chat.served_name,
        "temperature": metis.temperature,
        "max_tokens": metis.query_max_tokens,
    }
    return config


def render_metis_config(settings: Settings, router_url: str) -> str:
    body = yaml.safe_dump(metis_config(settings, router_url), sort_keys=False)
    header = HEADER.format(version=settings.metis.version) + TRUST[settings.router.tls_mode]
    return header + body

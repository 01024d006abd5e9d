"""The metis.yaml that points Metis at the router.

Metis reads it with plain `yaml.safe_load` and expands nothing, so it holds real values.
It holds no key: Metis reads the router key from `$VLLM_API_KEY`.
"""

from __future__ import annotations

from typing import Any

import yaml

from config.settings import Settings

NO_TOKEN_COUNTING = {"check_embedding_ctx_length": False}
"""Without it LangChain sends tiktoken token ids, which vLLM's embedding models misread."""

HEADER = """\
# metis.yaml for Metis {version}, rendered by metis-llm from the stack's settings.
# No key in this file. Metis reads the router key from the environment:
#   export VLLM_API_KEY="$(pulumi stack output api_key --show-secrets)"
"""


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
    return HEADER.format(version=settings.metis.version) + body

"""Values a stack may leave out, derived from the rest of its config and the catalog.

Works on the raw config (what the stack file holds) before validation, so it must accept
anything: where a section or value has the wrong shape it is left untouched for the schema
to report.
"""

from __future__ import annotations

from typing import Any

from config.catalog import Catalog
from config.settings import HostConfig

DEFAULT_HOSTS: dict[str, dict[str, Any]] = {"gpu-1": {}}
DEFAULT_CHAT_MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct"
DEFAULT_EMBEDDING_MODEL = "BAAI/bge-base-en-v1.5"
DEFAULT_CHAT_CONTEXT = 32768
"""Default max_model_len cap: long-context models (256K) would not fit their KV cache."""

METIS_DEFAULT_DOC_CHUNK = (1024, 200)
"""Metis's own doc_chunk_size / doc_chunk_overlap defaults."""


def max_doc_chunk_size(embedding_window: int) -> int:
    """Largest doc chunk (in Metis's tiktoken count) for an embedding window.

    Metis splits documents with cl100k token counts, but BERT-style embedding tokenizers
    produce more tokens for the same text: keep 1/8 of the window as headroom
    (512 -> 448, vLLM's advice for 512-token models).
    """
    return embedding_window - embedding_window // 8


def doc_chunking(embedding_window: int) -> tuple[int, int]:
    """(doc_chunk_size, doc_chunk_overlap) for an embedding window: Metis's defaults,
    shrunk to fit small windows (512 -> 448/96, 8192 -> 1024/200)."""
    size = min(METIS_DEFAULT_DOC_CHUNK[0], max_doc_chunk_size(embedding_window))
    overlap = min(METIS_DEFAULT_DOC_CHUNK[1], embedding_window * 3 // 16)
    return size, overlap


def _section(raw: dict[str, Any], key: str) -> Any:
    """A copy of a section when it is a mapping (missing means empty), else the bad value."""
    value = raw.get(key)
    if value is None:
        return {}
    return dict(value) if isinstance(value, dict) else value


def _default_gpu_host(hosts: Any, catalog: Catalog) -> str | None:
    if not isinstance(hosts, dict) or not hosts:
        return None
    default_type = HostConfig.model_fields["instance_type"].default
    for name, host in hosts.items():
        instance_type = host.get("instance_type", default_type) if isinstance(host, dict) else None
        spec = catalog.instance(instance_type) if isinstance(instance_type, str) else None
        if spec is not None and spec.has_gpu:
            return name
    return next(iter(hosts))


def _fill(section: Any, **defaults: Any) -> Any:
    """Set defaults for the keys a section lacks (or holds as null)."""
    if not isinstance(section, dict):
        return section
    for key, value in defaults.items():
        if section.get(key) is None and value is not None:
            section[key] = value
    return section


def with_defaults(raw: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """The raw stack config with every derivable value filled in."""
    filled = dict(raw)
    hosts = raw.get("hosts")
    if hosts is None:
        hosts = DEFAULT_HOSTS
    if isinstance(hosts, dict):
        hosts = {name: {} if host is None else host for name, host in hosts.items()}
    filled["hosts"] = hosts
    gpu_host = _default_gpu_host(hosts, catalog)

    chat = _fill(_section(raw, "chat"), model=DEFAULT_CHAT_MODEL)
    embedding = _fill(_section(raw, "embedding"), model=DEFAULT_EMBEDDING_MODEL)
    for service in (chat, embedding):
        if isinstance(service, dict):
            model = service["model"]
            _fill(
                service,
                served_name=model if isinstance(model, str) else None,
                hosts=[gpu_host] if gpu_host else None,
            )

    chat_spec = catalog.chat_model(chat["model"]) if _has_str(chat, "model") else None
    if chat_spec is not None:
        _fill(chat, max_model_len=min(chat_spec.context, DEFAULT_CHAT_CONTEXT))
    embedding_spec = (
        catalog.embedding_model(embedding["model"]) if _has_str(embedding, "model") else None
    )
    if embedding_spec is not None:
        _fill(
            embedding,
            max_model_len=embedding_spec.max_tokens,
            dimension=embedding_spec.dimension,
        )
    filled["chat"], filled["embedding"] = chat, embedding

    chat_hosts = chat.get("hosts") if isinstance(chat, dict) else None
    first_chat_host = chat_hosts[0] if isinstance(chat_hosts, list) and chat_hosts else gpu_host
    filled["router"] = _fill(_section(raw, "router"), host=first_chat_host)

    metis = _section(raw, "metis")
    embedding_window = embedding.get("max_model_len") if isinstance(embedding, dict) else None
    if isinstance(embedding_window, int) and embedding_window > 0:
        size, overlap = doc_chunking(embedding_window)
        _fill(metis, doc_chunk_size=size, doc_chunk_overlap=overlap)
    chat_window = chat.get("max_model_len") if isinstance(chat, dict) else None
    _fill(metis, max_token_length=chat_window if isinstance(chat_window, int) else None)
    filled["metis"] = metis

    filled["access"] = _section(raw, "access")
    return filled


def _has_str(section: Any, key: str) -> bool:
    return isinstance(section, dict) and isinstance(section.get(key), str)

"""The rendered metis.yaml must fit the models behind the router."""

from __future__ import annotations

from collections.abc import Iterator

from config.defaults import max_doc_chunk_size
from config.errors import Problem, config_key
from config.settings import Settings


def doc_chunking(s: Settings) -> Iterator[Problem]:
    window, metis = s.embedding.max_model_len, s.metis
    limit = max_doc_chunk_size(window)
    if metis.doc_chunk_size > limit:
        yield Problem(
            config_key("metis", "doc_chunk_size"),
            metis.doc_chunk_size,
            f"chunks must fit the {window}-token window of {s.embedding.model} with 1/8 "
            "headroom (Metis counts tokens with tiktoken, the model with its own tokenizer)",
            f"use at most {limit}, or leave it out to derive it",
        )
    if metis.doc_chunk_overlap >= metis.doc_chunk_size:
        yield Problem(
            config_key("metis", "doc_chunk_overlap"),
            metis.doc_chunk_overlap,
            f"not smaller than doc_chunk_size ({metis.doc_chunk_size})",
            f"use at most {metis.doc_chunk_size // 4}, or leave it out to derive it",
        )


def context_window(s: Settings) -> Iterator[Problem]:
    window, metis = s.chat.max_model_len, s.metis
    if metis.max_token_length > window:
        yield Problem(
            config_key("metis", "max_token_length"),
            metis.max_token_length,
            f"longer than the chat model's max_model_len ({window}): long prompts would fail "
            "at vLLM",
            f"use at most {window}, or leave it out to derive it",
        )
    if metis.query_max_tokens >= window:
        yield Problem(
            config_key("metis", "query_max_tokens"),
            metis.query_max_tokens,
            f"leaves no room for the prompt in the chat model's {window}-token window",
            f"use well under {window}, e.g. {min(1024, window // 4)}",
        )


RULES = (doc_chunking, context_window)

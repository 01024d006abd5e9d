"""The vLLM services of a stack, each described once: its key (the stack config's section,
the word in resource, container and deployment names), its port on its hosts, and whether
vLLM runs it as a pooling (embedding) model. `Settings.services` and `Settings.model_spec`
look a service's config and catalog entry up by key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from config.ports import CHAT_PORT, EMBEDDING_PORT

ServiceKey = Literal["chat", "embedding"]


@dataclass(frozen=True)
class Service:
    key: ServiceKey
    port: int
    """vLLM's port on every host of the service: published on the private IP only."""
    pooling: bool
    """Served by vLLM's pooling runner on `/v1/embeddings` rather than generating text."""


CHAT = Service("chat", CHAT_PORT, pooling=False)
EMBEDDING = Service("embedding", EMBEDDING_PORT, pooling=True)
SERVICES: dict[ServiceKey, Service] = {service.key: service for service in (CHAT, EMBEDDING)}
"""By key, in start order: where two servers share a GPU, the chat server starts first."""

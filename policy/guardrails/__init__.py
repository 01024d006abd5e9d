"""The metis-llm guardrails: every policy of the pack, importable without starting it."""

from .containers import BACKENDS_PRIVATE, IMAGES_PINNED
from .instances import ENCRYPTED_VOLUMES, OWNER_TAGGED, REQUIRE_IMDSV2
from .network import MONITORING_PORTS_PRIVATE, NO_WORLD_INGRESS, VLLM_PORTS_PRIVATE
from .scheduler import SCHEDULER_ROLES_SCOPED
from .transport import PUBLIC_ROUTER_TLS

POLICIES = (
    NO_WORLD_INGRESS,
    VLLM_PORTS_PRIVATE,
    MONITORING_PORTS_PRIVATE,
    REQUIRE_IMDSV2,
    ENCRYPTED_VOLUMES,
    IMAGES_PINNED,
    BACKENDS_PRIVATE,
    OWNER_TAGGED,
    SCHEDULER_ROLES_SCOPED,
    PUBLIC_ROUTER_TLS,
)

__all__ = ["POLICIES"]

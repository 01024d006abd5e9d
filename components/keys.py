"""The two generated keys: the router key clients use, and the backend key."""

from __future__ import annotations

import pulumi
import pulumi_random as random

KEY_LENGTH = 48


class ApiKeys(pulumi.ComponentResource):
    """Kept as secrets in the stack's state. The router (master) key is what Metis sends;
    the backend key is only known to the router and the vLLM servers, so a leaked router
    key does not open the backends and vice versa."""

    router_key: pulumi.Output[str]
    backend_key: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:keys:ApiKeys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        router = random.RandomPassword(
            f"{name}-router", length=KEY_LENGTH, special=False, opts=child
        )
        backend = random.RandomPassword(
            f"{name}-backend", length=KEY_LENGTH, special=False, opts=child
        )
        # LiteLLM requires master keys to start with "sk-".
        self.router_key = pulumi.Output.secret(pulumi.Output.concat("sk-", router.result))
        self.backend_key = pulumi.Output.secret(backend.result)
        self.register_outputs({"router_key": self.router_key, "backend_key": self.backend_key})

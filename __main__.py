"""metis-llm: a private vLLM + LiteLLM backend on AWS for Metis.

Load the stack's validated settings, build the backend, export what Metis needs.
"""

import pulumi

from components.backend import LlmBackend
from config.stack import load_stack_config

stack = load_stack_config()
settings = stack.settings
backend = LlmBackend("metis-llm", settings, stack=pulumi.get_stack(), hf_token=stack.hf_token)

pulumi.export("router_url", backend.router_url)
pulumi.export("router_ca_certificate", backend.router_ca_certificate)
pulumi.export("api_key", backend.api_key)
pulumi.export("metis_config", backend.metis_config)
pulumi.export("litellm_config", backend.litellm_config)
pulumi.export("chat_model", settings.chat.served_name)
pulumi.export("embedding_model", settings.embedding.served_name)
pulumi.export("embed_dim", settings.embedding.dimension)
pulumi.export("hosts", backend.hosts)
pulumi.export("hourly_cost_usd", backend.hourly_cost_usd)
pulumi.export("monthly_cost_usd", backend.monthly_cost_usd)
if backend.grafana_admin_password is not None:
    pulumi.export("grafana_admin_password", backend.grafana_admin_password)

"""The vLLM servers' ports on their hosts: shared by the stack config, the security group
and the policy pack (which imports this module from the project: standard library only)."""

CHAT_PORT = 8000
EMBEDDING_PORT = 8001
VLLM_PORTS = (CHAT_PORT, EMBEDDING_PORT)
"""Published on the hosts' private IPs only and open only to the stack's own group."""

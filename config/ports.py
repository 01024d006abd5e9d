"""The vLLM servers' ports on their hosts: shared by the stack config, the security group
and the policy pack (which imports this module from the project: standard library only)."""

CHAT_PORT = 8000
EMBEDDING_PORT = 8001
VLLM_PORTS = (CHAT_PORT, EMBEDDING_PORT)
"""Published on the hosts' private IPs only and open only to the stack's own group."""

GRAFANA_PORT = 3000
PROMETHEUS_PORT = 9090
"""Grafana and Prometheus listen on the router host's 127.0.0.1 only: no rule opens them,
and users reach Grafana through a port forward (`python -m ops dashboard STACK`)."""
NODE_EXPORTER_PORT = 9100
DCGM_EXPORTER_PORT = 9400
"""The exporters listen on each host's private IP and are open to the stack's own group."""
MONITORING_PORTS = {
    GRAFANA_PORT: "Grafana",
    PROMETHEUS_PORT: "Prometheus",
    NODE_EXPORTER_PORT: "node-exporter",
    DCGM_EXPORTER_PORT: "dcgm-exporter",
}
"""No rule may open one of these from outside the stack's own group (the policy pack's
`monitoring-ports-private`)."""
EXPORTER_PORTS = (NODE_EXPORTER_PORT, DCGM_EXPORTER_PORT)

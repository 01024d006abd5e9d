"""Prometheus alert rules: a backend down, the router failing, requests piling up, the KV
cache full, a GPU out of memory headroom or too hot.

Each expression reads metric names of the pinned versions (docs/reference/observability.md
says where each comes from); `tests/test_render_alerts.py` runs `promtool test rules` on
every alert, firing and not firing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml

from config.settings import Settings

GROUP = "metis-llm"
ROUTER_5XX_RATIO = 0.05
KV_CACHE_FULL = 0.95
"""`vllm:kv_cache_usage_perc` is a fraction: 1 is 100 % (vllm/v1/metrics/loggers.py:622)."""
GPU_MEMORY_FULL = 0.97
"""vLLM takes its `gpu_memory_utilization` share (at most 0.95 here) when it starts, so a GPU
normally sits at that share: only what goes past it is a problem."""
GPU_TEMPERATURE_C = 85


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: Literal["critical", "warning"]
    summary: str
    """Prometheus templating: `{{ $labels.x }}`, `{{ $value }}`."""


def alerts(settings: Settings) -> list[Alert]:
    waiting = settings.monitoring.waiting_requests_alert
    return [
        Alert(
            "BackendDown",
            'up{job=~"vllm|litellm"} == 0',
            "2m",
            "critical",
            "{{ $labels.job }} on {{ $labels.host }} ({{ $labels.instance }}) has not answered "
            "Prometheus for 2 minutes",
        ),
        Alert(
            "RouterErrorRateHigh",
            'sum(rate(litellm_proxy_total_requests_metric_total{status_code=~"5.."}[5m]))'
            " / sum(rate(litellm_proxy_total_requests_metric_total[5m]))"
            f" > {ROUTER_5XX_RATIO}",
            "5m",
            "critical",
            "{{ $value | humanizePercentage }} of the router's requests answered 5xx over 5 "
            "minutes",
        ),
        Alert(
            "RequestsWaiting",
            f"vllm:num_requests_waiting > {waiting}",
            "5m",
            "warning",
            "{{ $labels.model_name }} on {{ $labels.host }} has had more than "
            f"{waiting} requests waiting for 5 minutes ({{{{ $value }}}} now)",
        ),
        Alert(
            "KvCacheFull",
            f"vllm:kv_cache_usage_perc > {KV_CACHE_FULL}",
            "5m",
            "warning",
            "{{ $labels.model_name }} on {{ $labels.host }} has used over "
            f"{KV_CACHE_FULL:.0%} of its KV cache for 5 minutes: requests queue or get preempted",
        ),
        Alert(
            "GpuMemoryFull",
            "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
            f" > {GPU_MEMORY_FULL}",
            "10m",
            "warning",
            "GPU {{ $labels.gpu }} on {{ $labels.host }} has used over "
            f"{GPU_MEMORY_FULL:.0%} of its memory for 10 minutes",
        ),
        Alert(
            "GpuTemperatureHigh",
            f"DCGM_FI_DEV_GPU_TEMP > {GPU_TEMPERATURE_C}",
            "5m",
            "warning",
            "GPU {{ $labels.gpu }} on {{ $labels.host }} has been above "
            f"{GPU_TEMPERATURE_C} °C for 5 minutes ({{{{ $value }}}} °C)",
        ),
    ]


def alert_rules(settings: Settings) -> dict[str, Any]:
    return {
        "groups": [
            {
                "name": GROUP,
                "rules": [
                    {
                        "alert": alert.name,
                        "expr": alert.expr,
                        "for": alert.for_,
                        "labels": {"severity": alert.severity},
                        "annotations": {"summary": alert.summary},
                    }
                    for alert in alerts(settings)
                ],
            }
        ]
    }


def render_alert_rules(settings: Settings) -> str:
    return yaml.safe_dump(alert_rules(settings), sort_keys=False, allow_unicode=True)

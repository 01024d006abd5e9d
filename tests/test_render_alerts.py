"""The alert rules, unit-tested with Debian's real `promtool test rules`: each alert fires on
series shaped as its exporter writes them, and stays quiet just below its threshold or
before its duration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import load_settings
from renderers.alerts import alerts, render_alert_rules
from renderers.prometheus import RULES_FILE
from tests.support.prometheus import promtool, write_files
from tests.support.stacks import stack_raw_config

SETTINGS = load_settings(stack_raw_config("dev"))


def _selector(labels: dict[str, str]) -> str:
    """Labels as a series selector's matchers: `name="value",...`."""
    return ",".join(f'{name}="{value}"' for name, value in labels.items())


VLLM_LABELS = {
    "model_name": "Qwen/Qwen2.5-Coder-7B-Instruct",
    "engine": "0",
    "host": "gpu-1",
    "job": "vllm",
}
VLLM = _selector(VLLM_LABELS)
DCGM_LABELS = {
    "gpu": "0",
    "UUID": "GPU-1",
    "device": "nvidia0",
    "modelName": "NVIDIA L4",
    "host": "gpu-1",
    "job": "dcgm",
}
DCGM = _selector(DCGM_LABELS)
ROUTER = 'litellm_proxy_total_requests_metric_total{job="litellm",route="/v1/chat/completions"'


@dataclass(frozen=True)
class Case:
    alert: str
    series: dict[str, str]
    """Input series (promtool's expanding notation) that make the alert fire by `at`."""
    quiet: dict[str, str]
    """Series just short of it."""
    at: str
    labels: dict[str, str]
    summary: str


CASES = [
    Case(
        "BackendDown",
        {'up{job="vllm",host="gpu-1",instance="10.0.0.1:8000"}': "0x5"},
        {'up{job="vllm",host="gpu-1",instance="10.0.0.1:8000"}': "1 1 1 0 0 1"},
        "4m",
        {"severity": "critical", "job": "vllm", "host": "gpu-1", "instance": "10.0.0.1:8000"},
        "vllm on gpu-1 (10.0.0.1:8000) has not answered Prometheus for 2 minutes",
    ),
    Case(
        "RouterErrorRateHigh",
        {
            ROUTER + ',status_code="200"}': "0+90x15",
            ROUTER + ',status_code="500"}': "0+10x15",
        },
        {
            ROUTER + ',status_code="200"}': "0+96x15",
            ROUTER + ',status_code="500"}': "0+4x15",
        },
        "12m",
        {"severity": "critical"},
        "10% of the router's requests answered 5xx over 5 minutes",
    ),
    Case(
        "RequestsWaiting",
        {f"vllm:num_requests_waiting{{{VLLM}}}": "11x10"},
        {f"vllm:num_requests_waiting{{{VLLM}}}": "10x10"},
        "6m",
        {"severity": "warning", **VLLM_LABELS},
        "Qwen/Qwen2.5-Coder-7B-Instruct on gpu-1 has had more than 10 requests waiting for 5 "
        "minutes (11 now)",
    ),
    Case(
        "KvCacheFull",
        {f"vllm:kv_cache_usage_perc{{{VLLM}}}": "0.96x10"},
        {f"vllm:kv_cache_usage_perc{{{VLLM}}}": "0.95x10"},
        "6m",
        {"severity": "warning", **VLLM_LABELS},
        "Qwen/Qwen2.5-Coder-7B-Instruct on gpu-1 has used over 95% of its KV cache for 5 "
        "minutes: requests queue or get preempted",
    ),
    Case(
        "GpuMemoryFull",
        {
            f"DCGM_FI_DEV_FB_USED{{{DCGM}}}": "22500x15",
            f"DCGM_FI_DEV_FB_FREE{{{DCGM}}}": "500x15",
        },
        {
            f"DCGM_FI_DEV_FB_USED{{{DCGM}}}": "20700x15",
            f"DCGM_FI_DEV_FB_FREE{{{DCGM}}}": "2300x15",
        },
        "11m",
        {"severity": "warning", **DCGM_LABELS},
        "GPU 0 on gpu-1 has used over 97% of its memory for 10 minutes",
    ),
    Case(
        "GpuTemperatureHigh",
        {f"DCGM_FI_DEV_GPU_TEMP{{{DCGM}}}": "88x10"},
        {f"DCGM_FI_DEV_GPU_TEMP{{{DCGM}}}": "85x10"},
        "6m",
        {"severity": "warning", **DCGM_LABELS},
        "GPU 0 on gpu-1 has been above 85 °C for 5 minutes (88 °C)",
    ),
]


def _unit_test(series: dict[str, str], case: Case, fires: bool) -> dict[str, Any]:
    expected = [{"exp_labels": case.labels, "exp_annotations": {"summary": case.summary}}]
    return {
        "interval": "1m",
        "input_series": [{"series": name, "values": values} for name, values in series.items()],
        "alert_rule_test": [
            {"eval_time": case.at, "alertname": case.alert, "exp_alerts": expected if fires else []}
        ],
    }


def test_every_alert_has_a_case():
    assert sorted(case.alert for case in CASES) == sorted(a.name for a in alerts(SETTINGS))


@pytest.mark.lint
def test_promtool_accepts_the_rules(tmp_path: Path):
    write_files(tmp_path, {RULES_FILE: render_alert_rules(SETTINGS)})

    checked = promtool("check", "rules", RULES_FILE, cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.alert)
def test_the_alert_fires_past_its_threshold_and_duration_and_not_short_of_them(
    tmp_path: Path, case: Case
):
    tests = {
        "rule_files": [RULES_FILE],
        "evaluation_interval": "1m",
        "tests": [_unit_test(case.series, case, True), _unit_test(case.quiet, case, False)],
    }
    write_files(
        tmp_path, {RULES_FILE: render_alert_rules(SETTINGS), "tests.yml": yaml.safe_dump(tests)}
    )

    result = promtool("test", "rules", "tests.yml", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_waiting_threshold_follows_the_settings(dev_raw):
    dev_raw["monitoring"] = {"waiting_requests_alert": 3}

    (rule,) = [a for a in alerts(load_settings(dev_raw)) if a.name == "RequestsWaiting"]

    assert rule.expr == "vllm:num_requests_waiting > 3"

"""The Grafana dashboards, as code (grafana-foundation-sdk, Grafana 11.6 builders), rendered
to JSON files that Grafana's file provider loads when it starts.

Three dashboards: the models (vLLM), the GPUs and hosts (dcgm-exporter, node-exporter), the
router (LiteLLM). Every panel aggregates by the label that names what it shows (`model_name`,
`host` and `gpu`, `requested_model`, `model_id`...), so each model, replica or GPU is its own
series and no template variable is needed. Every metric name is the pinned version's
(docs/reference/observability.md); the end-to-end test runs every query against the real
Prometheus scraping the test servers and the real LiteLLM proxy, and each must return data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.timeseries import Panel
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "prometheus"
DATASOURCE = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
RATE_WINDOW = "5m"
FOLDER = "metis-llm"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    queries: tuple[Query, ...]
    description: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    sections: tuple[Section, ...]

    @property
    def file_name(self) -> str:
        return f"{self.uid}.json"

    @property
    def queries(self) -> list[str]:
        return [q.expr for s in self.sections for c in s.charts for q in c.queries]


def _rate(metric: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}[{RATE_WINDOW}]))"


def _quantiles(histogram: str, by: str, legend: str) -> tuple[Query, ...]:
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket[{RATE_WINDOW}])))",
            f"{legend} p{round(q * 100)}",
        )
        for q in (0.5, 0.95)
    )


MODEL = "{{model_name}}"

MODELS = Board(
    "metis-llm-models",
    "metis-llm: models",
    (
        Section(
            "Load",
            (
                Chart(
                    "Requests running",
                    "short",
                    (Query("sum by (model_name) (vllm:num_requests_running)", MODEL),),
                    "In the engine's batches, all replicas of a model together.",
                ),
                Chart(
                    "Requests waiting",
                    "short",
                    (Query("sum by (model_name) (vllm:num_requests_waiting)", MODEL),),
                    "Queued for scheduling capacity: a rising line means the replicas are full.",
                ),
            ),
        ),
        Section(
            "Latency",
            (
                Chart(
                    "Time to first token",
                    "s",
                    _quantiles("vllm:time_to_first_token_seconds", "model_name", MODEL),
                ),
                Chart(
                    "Inter-token latency",
                    "s",
                    _quantiles("vllm:inter_token_latency_seconds", "model_name", MODEL),
                ),
                Chart(
                    "End-to-end request latency",
                    "s",
                    _quantiles("vllm:e2e_request_latency_seconds", "model_name", MODEL),
                ),
            ),
        ),
        Section(
            "Throughput",
            (
                Chart(
                    "Tokens per second",
                    "short",
                    (
                        Query(_rate("vllm:prompt_tokens_total", "model_name"), f"{MODEL} prompt"),
                        Query(
                            _rate("vllm:generation_tokens_total", "model_name"),
                            f"{MODEL} generation",
                        ),
                    ),
                ),
            ),
        ),
        Section(
            "Cache and preemption",
            (
                Chart(
                    "KV-cache usage per replica",
                    "percentunit",
                    (
                        Query(
                            "max by (model_name, host) (vllm:kv_cache_usage_perc)",
                            f"{MODEL} on {{{{host}}}}",
                        ),
                    ),
                    "1 is 100 %: above 95 % for 5 minutes raises KvCacheFull.",
                ),
                Chart(
                    "Prefix-cache hit rate",
                    "percentunit",
                    (
                        Query(
                            f"{_rate('vllm:prefix_cache_hits_total', 'model_name')} / "
                            f"{_rate('vllm:prefix_cache_queries_total', 'model_name')}",
                            MODEL,
                        ),
                    ),
                    "Prompt tokens found in the cache, of those looked up.",
                ),
                Chart(
                    "Preemptions per second",
                    "short",
                    (Query(_rate("vllm:num_preemptions_total", "model_name"), MODEL),),
                ),
            ),
        ),
    ),
)

GPU = "{{host}} GPU {{gpu}}"

GPUS = Board(
    "metis-llm-gpus",
    "metis-llm: GPUs and hosts",
    (
        Section(
            "GPUs",
            (
                Chart(
                    "GPU utilization",
                    "percent",
                    (Query("max by (host, gpu) (DCGM_FI_DEV_GPU_UTIL)", GPU),),
                ),
                Chart(
                    "GPU memory used",
                    "percentunit",
                    (
                        Query(
                            "max by (host, gpu) (DCGM_FI_DEV_FB_USED"
                            " / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE))",
                            GPU,
                        ),
                    ),
                    "vLLM takes its gpu_memory_utilization share when it starts.",
                ),
                Chart(
                    "GPU temperature",
                    "celsius",
                    (Query("max by (host, gpu) (DCGM_FI_DEV_GPU_TEMP)", GPU),),
                ),
                Chart(
                    "GPU power",
                    "watt",
                    (Query("max by (host, gpu) (DCGM_FI_DEV_POWER_USAGE)", GPU),),
                ),
            ),
        ),
        Section(
            "Hosts",
            (
                Chart(
                    "CPU busy",
                    "percentunit",
                    (
                        Query(
                            "1 - avg by (host) "
                            f'(rate(node_cpu_seconds_total{{mode="idle"}}[{RATE_WINDOW}]))',
                            "{{host}}",
                        ),
                    ),
                ),
                Chart(
                    "Memory used",
                    "percentunit",
                    (
                        Query(
                            "1 - max by (host) (node_memory_MemAvailable_bytes)"
                            " / max by (host) (node_memory_MemTotal_bytes)",
                            "{{host}}",
                        ),
                    ),
                ),
                Chart(
                    "Root disk used",
                    "percentunit",
                    (
                        Query(
                            '1 - max by (host) (node_filesystem_avail_bytes{mountpoint="/"})'
                            ' / max by (host) (node_filesystem_size_bytes{mountpoint="/"})',
                            "{{host}}",
                        ),
                    ),
                    "Images, model weights and, on the router host, Prometheus's data.",
                ),
            ),
        ),
    ),
)

ROUTER = Board(
    "metis-llm-router",
    "metis-llm: router",
    (
        Section(
            "Requests",
            (
                Chart(
                    "Requests per second by model",
                    "reqps",
                    (
                        Query(
                            _rate("litellm_proxy_total_requests_metric_total", "requested_model"),
                            "{{requested_model}}",
                        ),
                    ),
                ),
                Chart(
                    "Requests per second by status code",
                    "reqps",
                    (
                        Query(
                            _rate("litellm_proxy_total_requests_metric_total", "status_code"),
                            "{{status_code}}",
                        ),
                    ),
                    "5xx above 5 % for 5 minutes raises RouterErrorRateHigh.",
                ),
                Chart(
                    "Request latency",
                    "s",
                    _quantiles(
                        "litellm_request_total_latency_metric", "model_group", "{{model_group}}"
                    ),
                    "From the router's receipt to its answer, retries included.",
                ),
            ),
        ),
        Section(
            "Failover",
            (
                Chart(
                    "Failed attempts per replica",
                    "reqps",
                    (
                        Query(
                            _rate("litellm_deployment_failure_responses_total", "model_id"),
                            "{{model_id}}",
                        ),
                    ),
                    "A failed call to a replica: the router retries it on another replica "
                    "(num_retries) and cools the failing one down.",
                ),
                Chart(
                    "Cooldowns per replica",
                    "short",
                    (
                        Query(
                            f"sum by (model_id) (increase("
                            f"litellm_deployment_cooled_down_total[{RATE_WINDOW}]))",
                            "{{model_id}}",
                        ),
                    ),
                    "Times a replica was taken out of rotation for the cooldown.",
                ),
                Chart(
                    "Replica state",
                    "short",
                    (Query("max by (model_id) (litellm_deployment_state)", "{{model_id}}"),),
                    "0 healthy, 1 partial outage, 2 complete outage (LiteLLM's own definition).",
                ),
            ),
        ),
    ),
)

BOARDS = (MODELS, GPUS, ROUTER)

PANEL_WIDTH = 8
PANEL_HEIGHT = 8


def _panel(chart: Chart, panel_id: int) -> Panel:
    panel = (
        Panel()
        .id(panel_id)
        .title(chart.title)
        .unit(chart.unit)
        .datasource(DATASOURCE)
        .height(PANEL_HEIGHT)
        .span(PANEL_WIDTH)
    )
    if chart.description:
        panel = panel.description(chart.description)
    for index, query in enumerate(chart.queries):
        panel = panel.with_target(
            Dataquery().expr(query.expr).legend_format(query.legend).ref_id(chr(ord("A") + index))
        )
    return panel


def dashboard(board: Board) -> dict:
    builder = (
        Dashboard(board.title)
        .uid(board.uid)
        .tags([FOLDER])
        .refresh("30s")
        .time("now-6h", "now")
        .editable()
    )
    ids = iter(range(1, 1000))
    for section in board.sections:
        builder = builder.with_row(Row(section.title).id(next(ids)))
        for chart in section.charts:
            builder = builder.with_panel(_panel(chart, next(ids)))
    return json.loads(JSONEncoder(sort_keys=True, indent=2).encode(builder.build()))


def render_dashboards() -> dict[str, str]:
    """Dashboard JSON by file name."""
    return {
        board.file_name: json.dumps(dashboard(board), indent=2, sort_keys=True) + "\n"
        for board in BOARDS
    }

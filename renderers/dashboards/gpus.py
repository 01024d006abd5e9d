"""The GPUs and hosts dashboard: dcgm-exporter's GPU fields per GPU, node-exporter's per
host."""

from __future__ import annotations

from renderers.dashboards.layout import RATE_WINDOW, Board, Chart, Query, Section

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

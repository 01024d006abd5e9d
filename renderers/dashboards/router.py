"""The router dashboard: LiteLLM 1.108.7's Prometheus metrics: requests, status codes,
latency, failovers and cooldowns."""

from __future__ import annotations

from renderers.dashboards.layout import RATE_WINDOW, Board, Chart, Query, Section, quantiles, rate

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
                            rate("litellm_proxy_total_requests_metric_total", "requested_model"),
                            "{{requested_model}}",
                        ),
                    ),
                ),
                Chart(
                    "Requests per second by status code",
                    "reqps",
                    (
                        Query(
                            rate("litellm_proxy_total_requests_metric_total", "status_code"),
                            "{{status_code}}",
                        ),
                    ),
                    "5xx above 5 % for 5 minutes raises RouterErrorRateHigh.",
                ),
                Chart(
                    "Request latency",
                    "s",
                    quantiles(
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
                            rate("litellm_deployment_failure_responses_total", "model_id"),
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

"""The models dashboard: vLLM's engine metrics per served model (vLLM 0.32.0's names)."""

from __future__ import annotations

from renderers.dashboards.layout import Board, Chart, Query, Section, quantiles, rate

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
                    quantiles("vllm:time_to_first_token_seconds", "model_name", MODEL),
                ),
                Chart(
                    "Inter-token latency",
                    "s",
                    quantiles("vllm:inter_token_latency_seconds", "model_name", MODEL),
                ),
                Chart(
                    "End-to-end request latency",
                    "s",
                    quantiles("vllm:e2e_request_latency_seconds", "model_name", MODEL),
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
                        Query(rate("vllm:prompt_tokens_total", "model_name"), f"{MODEL} prompt"),
                        Query(
                            rate("vllm:generation_tokens_total", "model_name"),
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
                            f"{rate('vllm:prefix_cache_hits_total', 'model_name')} / "
                            f"{rate('vllm:prefix_cache_queries_total', 'model_name')}",
                            MODEL,
                        ),
                    ),
                    "Prompt tokens found in the cache, of those looked up.",
                ),
                Chart(
                    "Preemptions per second",
                    "short",
                    (Query(rate("vllm:num_preemptions_total", "model_name"), MODEL),),
                ),
            ),
        ),
    ),
)

"""GPU memory estimates: does a model fit, and what would.

Needed per GPU ~= weights / TP + KV cache for one full-length sequence / TP + overhead
(activations, CUDA graphs), and it must fit in gpu_memory_utilization x GPU memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.catalog import Catalog, ChatModelSpec, EmbeddingModelSpec, InstanceSpec

GIB = 1024**3
OVERHEAD_GIB = 1.5
"""Activations and CUDA graphs per GPU (1-2 GiB in practice)."""
KV_BYTES = 2
"""KV cache entries are kept in 16 bits unless vLLM is told otherwise."""

_BYTES_PER_PARAM = {None: 2.0, "fp8": 1.0, "awq": 0.55, "gptq": 0.55, "mxfp4": 0.53}


@dataclass(frozen=True)
class Footprint:
    """Memory a service needs on each of its GPUs."""

    weights_gib: float
    kv_cache_gib: float

    @property
    def per_gpu_gib(self) -> float:
        return self.weights_gib + self.kv_cache_gib + OVERHEAD_GIB


def weights_gib(spec: ChatModelSpec | EmbeddingModelSpec, quantization: str | None) -> float:
    """Weights as served: quantized as configured, else as the checkpoint stores them."""
    published = getattr(spec, "weights_gib", None)
    if published is not None:
        return published
    return spec.params_b * 1e9 * _BYTES_PER_PARAM[quantization or spec.quantization] / GIB


def kv_cache_gib(spec: ChatModelSpec | EmbeddingModelSpec, tokens: int) -> float:
    """KV cache for one sequence of `tokens` (none for encoder-style embedding models)."""
    if not isinstance(spec, ChatModelSpec):
        return 0.0
    return 2 * spec.layers * spec.kv_heads * spec.head_dim * KV_BYTES * tokens / GIB


def footprint(
    spec: ChatModelSpec | EmbeddingModelSpec,
    *,
    max_model_len: int,
    tensor_parallel_size: int,
    quantization: str | None,
) -> Footprint:
    return Footprint(
        weights_gib=weights_gib(spec, quantization) / tensor_parallel_size,
        kv_cache_gib=kv_cache_gib(spec, max_model_len) / tensor_parallel_size,
    )


def usable_gib(instance: InstanceSpec, gpu_memory_utilization: float) -> float:
    return instance.gib_per_gpu * gpu_memory_utilization


def longest_fitting_len(
    spec: ChatModelSpec | EmbeddingModelSpec,
    *,
    budget_gib: float,
    tensor_parallel_size: int,
    quantization: str | None,
) -> int | None:
    """The largest max_model_len (a multiple of 1024) that fits a budget, if any."""
    spare = budget_gib - weights_gib(spec, quantization) / tensor_parallel_size - OVERHEAD_GIB
    per_token = kv_cache_gib(spec, 1) / tensor_parallel_size
    if spare <= 0 or per_token == 0:
        return None
    tokens = int(spare / per_token) // 1024 * 1024
    return tokens or None


def cheapest_fitting_instance(
    catalog: Catalog,
    need: Footprint,
    *,
    gpus_needed: int,
    gpu_memory_utilization: float,
) -> str | None:
    """The catalog's cheapest instance type on which the footprint fits as configured."""
    fitting = [
        (spec.usd_per_hour, name)
        for name, spec in catalog.instances.items()
        if spec.gpu_count >= gpus_needed
        and need.per_gpu_gib <= usable_gib(spec, gpu_memory_utilization)
    ]
    return min(fitting)[1] if fitting else None

"""What is served: models, their sizes, windows and vLLM flags."""

from __future__ import annotations

import math
from collections.abc import Iterator

from config.errors import NOT_SET, Problem, config_key
from config.rules.placement import placements
from config.settings import Settings
from config.sizing import (
    OVERHEAD_GIB,
    cheapest_fitting_instance,
    footprint,
    longest_fitting_len,
    usable_gib,
    weights_gib,
)
from config.vllm_flags import UNSUPPORTED_FLAGS, flag_of, refused_by

TOOL_FLAGS = (
    "Metis's review calls need them as the chat model's family dictates: they are rendered "
    "from metis-llm:catalog.models.<chat model>.tool_calling (see README, Metis reviews)"
)

MANAGED_FLAGS: dict[str, str] = {
    "--model": "set metis-llm:{key}.model instead",
    "--host": "the server binds inside its container and is published on the private IP",
    "--port": "the project assigns the vLLM ports",
    "--served-model-name": "set metis-llm:{key}.served_name instead",
    "--max-model-len": "set metis-llm:{key}.max_model_len instead",
    "--tensor-parallel-size": "set metis-llm:{key}.tensor_parallel_size instead",
    "--gpu-memory-utilization": "set metis-llm:{key}.gpu_memory_utilization instead",
    "--dtype": "set metis-llm:{key}.dtype instead",
    "--quantization": "set metis-llm:{key}.quantization instead",
    "--api-key": "the backend key is generated and passed by environment; on the command "
    "line it would show in `ps` and `docker inspect`",
    "--task": "the embedding runner flag is chosen from the image's vLLM version",
    "--runner": "the embedding runner flag is chosen from the image's vLLM version",
    "--enable-auto-tool-choice": TOOL_FLAGS,
    "--tool-call-parser": TOOL_FLAGS,
    "--tool-strict-level": TOOL_FLAGS,
    "--default-chat-template-kwargs": TOOL_FLAGS,
}

AMI_ROOT_GIB = {True: 75, False: 8}
"""Root volume the AMI itself takes: Deep Learning Base GPU AMI vs plain Ubuntu."""
IMAGE_GIB = {"vllm": 25, "litellm": 3}
"""Unpacked size of the images on disk, rounded up."""
MONITORING_IMAGE_GIB = {"router": 1, "exporters": 1}
"""Prometheus and Grafana on the router host; node-exporter and dcgm-exporter (with DCGM
inside) on a GPU host."""
MONITORING_MARGIN = 1.25
"""Prometheus's size bound covers its blocks, WAL and head chunks; compaction needs room
on top (docs/reference/observability.md)."""
IMAGE_VERSIONS_ON_DISK = 2
"""During an image update the new version is pulled while the old one still runs; the old
one is pruned once every container runs the new one."""


def model_kinds(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        spec = s.catalog.models.get(service.model)
        if spec is not None and spec.kind != key:
            yield Problem(
                config_key(key, "model"),
                service.model,
                f"the catalog lists it as a {spec.kind} model",
                f"use a {key} model here",
            )


def model_fits(s: Settings) -> Iterator[Problem]:
    for key, service, _, host, instance in placements(s):
        spec, tp = s.model_spec(key), service.tensor_parallel_size
        if spec is None or not instance.has_gpu or service.first_gpu + tp > instance.gpu_count:
            continue
        need = footprint(
            spec,
            max_model_len=service.max_model_len,
            tensor_parallel_size=tp,
            quantization=service.quantization,
        )
        budget = usable_gib(instance, service.gpu_memory_utilization)
        if need.per_gpu_gib <= budget:
            continue
        options = []
        fitting_len = longest_fitting_len(
            spec,
            budget_gib=budget,
            tensor_parallel_size=tp,
            quantization=service.quantization,
        )
        if fitting_len:
            options.append(f"lower max_model_len to {fitting_len}")
        cheapest = cheapest_fitting_instance(
            s.catalog,
            need,
            gpus_needed=service.first_gpu + tp,
            gpu_memory_utilization=service.gpu_memory_utilization,
        )
        if cheapest:
            price = s.catalog.instances[cheapest].usd_per_hour
            options.append(
                f"use {cheapest} for {host} (the cheapest catalog instance where it fits, "
                f"${price:.2f}/h)"
            )
        options.append("use a smaller or quantized model")
        yield Problem(
            config_key(key, "model"),
            service.model,
            f"needs ~{need.per_gpu_gib:.1f} GiB per GPU ({need.weights_gib:.1f} weights + "
            f"{need.kv_cache_gib:.1f} KV cache for {service.max_model_len} tokens + "
            f"{OVERHEAD_GIB} overhead) but gets {service.gpu_memory_utilization} x "
            f"{instance.gib_per_gpu:.1f} GiB = {budget:.1f} GiB on {host} "
            f"({s.hosts[host].instance_type})",
            ", or ".join(options),
        )


def context_lengths(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        spec = s.model_spec(key)
        window = spec.window if spec is not None else None
        if window is not None and service.max_model_len > window:
            yield Problem(
                config_key(key, "max_model_len"),
                service.max_model_len,
                f"{service.model} takes at most {window} tokens",
                f"use at most {window}",
            )


def embedding_dimension(s: Settings) -> Iterator[Problem]:
    spec, dimension = s.embedding_spec, s.embedding.dimension
    if spec is not None and dimension != spec.dimension:
        yield Problem(
            config_key("embedding", "dimension"),
            dimension,
            f"{s.embedding.model} returns {spec.dimension}-dimensional vectors; Metis would "
            f"size its vector store for {dimension} and every insert would fail",
            f"set it to {spec.dimension}, or leave it out",
        )


def served_names(s: Settings) -> Iterator[Problem]:
    if s.chat.served_name == s.embedding.served_name:
        yield Problem(
            config_key("embedding", "served_name"),
            s.embedding.served_name,
            "the chat and embedding services would share one model name at the router",
            "give them different served names",
        )


def gated_models(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        spec = s.catalog.models.get(service.model)
        if spec is not None and spec.gated and not s.has_hf_token:
            yield Problem(
                config_key("hf_token"),
                NOT_SET,
                f"{service.model} (metis-llm:{key}.model) is gated on Hugging Face",
                "pulumi config set --secret metis-llm:hf_token <a token with access to it>",
            )


def disk_sizes(s: Settings) -> Iterator[Problem]:
    for host, config in s.hosts.items():
        instance = s.instance(host)
        if instance is None:
            continue
        weights = sum(
            weights_gib(spec, None)
            for key in s.services_on(host)
            if (spec := s.catalog.models.get(s.services[key].model)) is not None
        )
        images = IMAGE_VERSIONS_ON_DISK * (
            (IMAGE_GIB["vllm"] if s.services_on(host) else 0)
            + (IMAGE_GIB["litellm"] if host == s.router.host else 0)
        )
        metrics = _monitoring_gib(s, host, instance.has_gpu)
        need = AMI_ROOT_GIB[instance.has_gpu] + images + weights * 1.1 + metrics
        if config.disk_gib < need:
            monitoring = f", monitoring ({metrics:.0f}: images and metrics)" if metrics else ""
            yield Problem(
                config_key("hosts", host, "disk_gib"),
                config.disk_gib,
                f"{host} needs about {need:.0f} GiB: the AMI ({AMI_ROOT_GIB[instance.has_gpu]}), "
                f"images ({images}: old and new version during an image update){monitoring} "
                f"and model weights ({weights:.0f}) with 10% to spare",
                f"set it to {math.ceil(need / 10) * 10} or more",
            )


def _monitoring_gib(s: Settings, host: str, gpu: bool) -> float:
    """What monitoring keeps on a host's disk: images (two versions, as for the others), and
    on the router host Prometheus's data within its size bound."""
    if not s.monitoring.enabled:
        return 0.0
    images = MONITORING_IMAGE_GIB["exporters"] if gpu else 0
    stored = 0.0
    if host == s.router.host:
        images += MONITORING_IMAGE_GIB["router"]
        stored = s.monitoring.retention_gib * MONITORING_MARGIN
    return IMAGE_VERSIONS_ON_DISK * images + stored


def _refused_flag(arg: str, key: str) -> tuple[str, str] | None:
    """(reason, fix) when an extra_args item names a flag this project refuses, in any
    spelling vLLM reads as it (config.vllm_flags)."""
    flag = flag_of(arg)
    if flag is None:
        return None
    refused = {**MANAGED_FLAGS, **UNSUPPORTED_FLAGS}
    targets = refused_by(flag, refused)
    if not targets:
        if " " in flag:
            return (
                "a flag and its value in one item, which vLLM reads as neither",
                "give flags as ['--flag', 'value'] or ['--flag=value']",
            )
        return None
    written = arg.split("=", 1)[0]
    if len(targets) > 1:
        return (
            f"{written} abbreviates {', '.join(targets)}: vLLM reads it as one of them or stops",
            "write the whole name of the flag you mean; those are refused",
        )
    (target,) = targets
    read_as = "" if written == target else f"{written} is read by vLLM as "
    if target in MANAGED_FLAGS:
        return (
            f"{read_as}{target}, which is managed by this project",
            f"remove it: {MANAGED_FLAGS[target].format(key=key)}",
        )
    return f"{read_as}{target}, which is refused: {UNSUPPORTED_FLAGS[target]}", "remove it"


def extra_args(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        previous_takes_value = False
        for index, arg in enumerate(service.extra_args):
            if (problem := _refused_flag(arg, key)) is not None:
                yield Problem(config_key(key, "extra_args", index), arg, *problem)
            elif not arg.startswith("-") and not previous_takes_value:
                yield Problem(
                    config_key(key, "extra_args", index),
                    arg,
                    "a value with no flag before it",
                    "give flags as ['--flag', 'value'] or ['--flag=value']",
                )
            previous_takes_value = flag_of(arg) is not None and "=" not in arg


RULES = (
    model_kinds,
    model_fits,
    context_lengths,
    embedding_dimension,
    served_names,
    gated_models,
    disk_sizes,
    extra_args,
)

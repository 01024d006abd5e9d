"""Where services run: hosts, instance types, GPUs and ports."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator

from config.catalog import ChatModelSpec, InstanceSpec
from config.errors import Problem, config_key
from config.ports import VLLM_PORTS
from config.settings import ServiceConfig, Settings

MAX_SHARED_GPU_FRACTION = 0.95
"""Each vLLM process takes its fraction of the WHOLE GPU; above this CUDA has no room."""


def placements(
    s: Settings,
) -> Iterator[tuple[str, ServiceConfig, int, str, InstanceSpec]]:
    """(service key, service, index in its hosts, host, instance) for each replica on a
    host whose instance type is known."""
    for key, service in s.services.items():
        for index, host in enumerate(service.hosts):
            instance = s.instance(host)
            if instance is not None:
                yield key, service, index, host, instance


def unknown_hosts(s: Settings) -> Iterator[Problem]:
    references = [
        ((key, "hosts", index), host)
        for key, service in s.services.items()
        for index, host in enumerate(service.hosts)
    ] + [(("router", "host"), s.router.host)]
    for path, host in references:
        if host not in s.hosts:
            yield Problem(
                config_key(*path),
                host,
                f"no host named {host!r} in metis-llm:hosts",
                f"use one of {', '.join(s.hosts)}, or add {host!r} under metis-llm:hosts",
            )


def duplicate_replicas(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        seen: set[str] = set()
        for index, host in enumerate(service.hosts):
            if host in seen:
                yield Problem(
                    config_key(key, "hosts", index),
                    host,
                    "a host carries at most one replica of a service",
                    f"list {host!r} once",
                )
            seen.add(host)


def idle_hosts(s: Settings) -> Iterator[Problem]:
    used = {host for service in s.services.values() for host in service.hosts} | {s.router.host}
    for host, config in s.hosts.items():
        if host not in used:
            yield Problem(
                config_key("hosts", host),
                config.model_dump(),
                "runs nothing (no chat, embedding or router) but would be billed",
                "remove it, or list it in metis-llm:chat.hosts, embedding.hosts or router.host",
            )


def unknown_instance_types(s: Settings) -> Iterator[Problem]:
    for host, config in s.hosts.items():
        name = config.instance_type
        if s.catalog.instance(name) is not None:
            continue
        close = difflib.get_close_matches(name, s.catalog.instances, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        yield Problem(
            config_key("hosts", host, "instance_type"),
            name,
            "not in the catalog, so its GPUs, memory and price are unknown",
            f"use a catalog instance type{hint}, or describe it under "
            f"metis-llm:catalog.instances.{name} (gpu_count, gib_per_gpu, vcpu, ram_gib, "
            "usd_per_hour)",
        )


def gpu_services_on_gpu_hosts(s: Settings) -> Iterator[Problem]:
    for key, _, index, host, instance in placements(s):
        if not instance.has_gpu:
            yield Problem(
                config_key(key, "hosts", index),
                host,
                f"{host} is a {s.hosts[host].instance_type} with no GPU, and vLLM needs one",
                "put the service on a GPU host (a CPU-only host can carry the router alone)",
            )


def _powers_of_two_around(n: int) -> str:
    lower = 1 << (n.bit_length() - 1)
    return f"{lower} or {lower * 2}"


def tensor_parallelism(s: Settings) -> Iterator[Problem]:
    for key, service in s.services.items():
        spec = s.model_spec(key)
        model_heads = spec.attention_heads if isinstance(spec, ChatModelSpec) else None
        tp = service.tensor_parallel_size
        if tp & (tp - 1):
            yield Problem(
                config_key(key, "tensor_parallel_size"),
                tp,
                "must be a power of two",
                f"use {_powers_of_two_around(tp)}",
            )
        elif model_heads is not None and model_heads % tp:
            yield Problem(
                config_key(key, "tensor_parallel_size"),
                tp,
                f"{service.model} has {model_heads} attention heads, which {tp} does not divide",
                "use a power of two that divides the head count",
            )


def gpu_ranges(s: Settings) -> Iterator[Problem]:
    for key, service, _, host, instance in placements(s):
        gpus, tp = instance.gpu_count, service.tensor_parallel_size
        where = f"{host} ({s.hosts[host].instance_type})"
        if not instance.has_gpu:
            continue
        if tp > gpus:
            yield Problem(
                config_key(key, "tensor_parallel_size"),
                tp,
                f"{where} has {gpus} GPU{'s' if gpus > 1 else ''}",
                f"use at most {gpus}, or a larger instance type for {host}",
            )
        elif service.first_gpu + tp > gpus:
            last = service.first_gpu + tp - 1
            yield Problem(
                config_key(key, "first_gpu"),
                service.first_gpu,
                f"uses GPUs {service.first_gpu}..{last} but {where} has GPUs 0..{gpus - 1}",
                f"set first_gpu to at most {gpus - tp}",
            )


def shared_gpu_memory(s: Settings) -> Iterator[Problem]:
    for host in s.hosts:
        users: dict[int, list[str]] = defaultdict(list)
        for key in s.services_on(host):
            for gpu in s.services[key].gpu_ids:
                users[gpu].append(key)
        reported: set[tuple[str, ...]] = set()
        for gpu, keys in sorted(users.items()):
            total = sum(s.services[key].gpu_memory_utilization for key in keys)
            if (
                len(keys) < 2
                or round(total, 6) <= MAX_SHARED_GPU_FRACTION
                or tuple(keys) in reported
            ):
                continue
            reported.add(tuple(keys))
            last = keys[-1]
            others = total - s.services[last].gpu_memory_utilization
            yield Problem(
                config_key(last, "gpu_memory_utilization"),
                s.services[last].gpu_memory_utilization,
                f"{' and '.join(keys)} share GPU {gpu} of {host} and their fractions add up to "
                f"{total:.2f}; each vLLM takes its fraction of the whole GPU, and above "
                f"{MAX_SHARED_GPU_FRACTION} CUDA has no room left",
                f"lower it to {MAX_SHARED_GPU_FRACTION - others:.2f} or less, or give the "
                "services different GPUs (first_gpu) or hosts",
            )


def bfloat16_support(s: Settings) -> Iterator[Problem]:
    for key, service, _, host, instance in placements(s):
        if service.dtype == "bfloat16" and instance.has_gpu and not instance.bf16:
            yield Problem(
                config_key(key, "dtype"),
                service.dtype,
                f"the {instance.gpu_model} GPUs of {host} have no bfloat16",
                "use float16, or auto (vLLM then picks float16)",
            )


def router_port(s: Settings) -> Iterator[Problem]:
    """The router's port is open to its callers; a vLLM port must be open to the stack's own
    hosts only (the policy pack refuses any rule opening one wider), and on the router host
    it may be taken."""
    if s.router.port in VLLM_PORTS:
        yield Problem(
            config_key("router", "port"),
            s.router.port,
            f"port {s.router.port} is a vLLM port ({', '.join(map(str, VLLM_PORTS))}), open "
            "only within the stack",
            "use another port, e.g. 8888",
        )


RULES = (
    unknown_hosts,
    duplicate_replicas,
    idle_hosts,
    unknown_instance_types,
    gpu_services_on_gpu_hosts,
    tensor_parallelism,
    gpu_ranges,
    shared_gpu_memory,
    bfloat16_support,
    router_port,
)

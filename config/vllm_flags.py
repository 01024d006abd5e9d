"""vLLM flags in `extra_args` as `vllm serve` reads them, and those this project refuses.

vLLM 0.32.0's parser (docs/reference/vllm-flags.md, with file:line sources) reads `--api_key`
as `--api-key`, takes `--flag=value`, folds `--flag.key value` into `--flag`, reads `-O3` as
`--optimization-level 3`, has short forms (`-tp`, `-q`, `-dp`...), and, being a plain argparse
parser with `allow_abbrev` left on, takes any unambiguous prefix of an option for the option
(`--tensor-par 2`, `-t 2`). So a refused flag is refused in every one of these spellings, and
a prefix of a refused flag is refused too: vLLM either reads it as that flag or stops on it as
ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Collection

SHORT_FORMS: dict[str, str] = {
    "-q": "--quantization",
    "-pp": "--pipeline-parallel-size",
    "-n": "--nnodes",
    "-r": "--node-rank",
    "-tp": "--tensor-parallel-size",
    "-dcp": "--decode-context-parallel-size",
    "-pcp": "--prefill-context-parallel-size",
    "-dp": "--data-parallel-size",
    "-dpn": "--data-parallel-rank",
    "-dpr": "--data-parallel-start-rank",
    "-dpl": "--data-parallel-size-local",
    "-dpa": "--data-parallel-address",
    "-dpp": "--data-parallel-rpc-port",
    "-dpb": "--data-parallel-backend",
    "-dph": "--data-parallel-hybrid-lb",
    "-dpe": "--data-parallel-external-lb",
    "-dpm": "--data-parallel-multi-port-external-lb",
    "-ep": "--enable-expert-parallel",
    "-sc": "--speculative-config",
    "-dc": "--diffusion-config",
    "-cc": "--compilation-config",
    "-ac": "--attention-config",
    "-asc": "--api-server-count",
    "-h": "--help",
}
"""Every short option of `vllm serve` in vLLM 0.32.0, and argparse's own `-h`."""
ALIASES: dict[str, str] = {
    **SHORT_FORMS,
    "--device-memory-utilization": "--gpu-memory-utilization",
}
"""Every other name of an option: the short forms and vLLM 0.32.0's one long alias."""

GPU_COUNT = "it changes how many GPUs a replica takes, which the project sizes and places"
MULTI_NODE = "a replica runs on one host; the router balances replicas across hosts"
UNSUPPORTED_FLAGS: dict[str, str] = {
    "--pipeline-parallel-size": GPU_COUNT,
    "--prefill-context-parallel-size": GPU_COUNT,
    "--data-parallel-size": GPU_COUNT,
    "--data-parallel-size-local": GPU_COUNT,
    "--data-parallel-rank": MULTI_NODE,
    "--data-parallel-start-rank": MULTI_NODE,
    "--data-parallel-address": MULTI_NODE,
    "--data-parallel-rpc-port": MULTI_NODE,
    "--data-parallel-backend": GPU_COUNT,
    "--data-parallel-hybrid-lb": MULTI_NODE,
    "--data-parallel-external-lb": MULTI_NODE,
    "--data-parallel-multi-port-external-lb": MULTI_NODE,
    "--enable-elastic-ep": GPU_COUNT,
    "--nnodes": MULTI_NODE,
    "--node-rank": MULTI_NODE,
    "--headless": MULTI_NODE,
    "--master-addr": MULTI_NODE,
    "--master-port": MULTI_NODE,
    "--device-ids": "it picks GPUs itself; the project gives each service its GPUs "
    "(first_gpu, tensor_parallel_size)",
    "--kv-cache-memory-bytes": "it sizes the KV cache past gpu_memory_utilization, the share "
    "of each GPU the project budgets",
    "--quantization-config": "it changes how the weights are quantized, which the project "
    "sizes from metis-llm:<service>.quantization",
    "--hf-token": "a token on the command line shows in `ps` and `docker inspect`; set "
    "metis-llm:hf_token as a secret instead",
    "--config": "it reads more flags from a file, out of reach of these checks",
    "--uds": "the server would listen on a socket instead of its port, out of the router's reach",
    "--grpc": "the server would speak gRPC instead of the HTTP API the router calls",
    "--help": "the server would print its help and exit",
    "--": "it ends vLLM's options: what follows would be read as positional arguments",
}
"""Flags refused in extra_args besides those the project sets itself (the reason each is)."""

_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
"""argparse reads these as values, not options, when no option looks like a number."""


def flag_of(arg: str) -> str | None:
    """The option an extra_args item names, spelt as vLLM's parser reads it before argparse
    matches prefixes; None when the item is a value.

    `--api_key=x` -> `--api-key`; `--compilation_config.level` -> `--compilation-config`;
    `-tp=2` -> `--tensor-parallel-size`; `-qawq` -> `--quantization`; `-O3` ->
    `--optimization-level`; `--device_memory_utilization` -> `--gpu-memory-utilization`;
    `-t` -> `-t` (an abbreviation, see `refused_by`); `-1` -> None.
    """
    if arg == "--":
        return arg
    if arg.startswith("--"):
        name = arg.split("=", 1)[0].split(".", 1)[0].replace("_", "-")
        return ALIASES.get(name, name)
    if arg.startswith("-O"):
        return "--optimization-level"
    if not arg.startswith("-") or len(arg) == 1 or _NEGATIVE_NUMBER.match(arg):
        return None
    name = arg.split("=", 1)[0]
    if name in SHORT_FORMS:
        return SHORT_FORMS[name]
    if arg[:2] in SHORT_FORMS:  # a one-letter option with its value: -qawq
        return SHORT_FORMS[arg[:2]]
    return name


def refused_by(flag: str, refused: Collection[str]) -> list[str]:
    """The refused options a flag (from `flag_of`) names: itself, or every refused option
    one of whose names it is a prefix of (argparse's abbreviations: long `--tensor-par`,
    `--device-mem`, short `-t` alike)."""
    if flag in refused:
        return [flag]
    names = {option: option for option in refused}
    names.update({alias: option for alias, option in ALIASES.items() if option in refused})
    long = flag.startswith("--")
    shortest = 3 if long else 2
    return sorted(
        {
            option
            for name, option in names.items()
            if name.startswith("--") == long and name.startswith(flag) and len(flag) >= shortest
        }
    )

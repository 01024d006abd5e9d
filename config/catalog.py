"""The catalog: what the project knows about AWS instance types and models.

Seeded from public figures (../shared/reference/catalog.md). A stack can add entries or
override single fields of existing ones under `metis-llm:catalog` (see
`config.loader.merge_catalog`), e.g. to correct a price or to describe a model the seed
lacks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from config.numbers import NumbersFromText

PRICES_AS_OF = "2026-11"
"""Month the seed prices were read (approximate us-east-1 Linux on-demand list prices)."""


Quantization = Literal["awq", "gptq", "fp8", "mxfp4"]
"""How a checkpoint's weights are stored; vLLM reads it from the checkpoint's config."""


class CatalogEntry(NumbersFromText):
    """Bounded numbers: a typo like 1e300 is reported, not carried into the sizing maths."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class InstanceSpec(CatalogEntry):
    """An EC2 instance type. CPU-only types have `gpu_count: 0`."""

    gpu_count: int = Field(ge=0, le=16)
    gpu_model: str | None = None
    gib_per_gpu: float = Field(default=0, ge=0, le=1024)
    """Memory per GPU as the driver reports it (nvidia-smi's total), not the marketed
    size: an L4 sold as 24 GB shows 23034 MiB. vLLM's `gpu_memory_utilization` is a share
    of that total."""
    vcpu: int = Field(ge=1, le=1024)
    ram_gib: float = Field(gt=0, le=65536)
    usd_per_hour: float = Field(ge=0, le=10_000)
    bf16: bool = True
    """Whether the GPU computes in bfloat16 (T4 does not: vLLM serves float16 there)."""

    @property
    def has_gpu(self) -> bool:
        return self.gpu_count > 0


class ToolCallingSpec(CatalogEntry):
    """What vLLM needs to serve a model family's function calls (Metis's reviews are one
    forced function call each; see docs/reference/vllm-tool-calling.md)."""

    parser: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    """vLLM's `--tool-call-parser` for the family's tool-call markup."""
    thinking_off: bool = False
    """Render `--default-chat-template-kwargs '{"enable_thinking": false}'`: hybrid
    thinking models would otherwise be asked to think first."""


HERMES = ToolCallingSpec(parser="hermes")
"""Qwen2.5 / Qwen2.5-Coder: `<tool_call>{json}</tool_call>`, which vLLM's hermes parser reads."""
QWEN3_HYBRID = ToolCallingSpec(parser="hermes", thinking_off=True)
"""Qwen3 (not Coder): hermes markup, and a chat template that thinks unless told not to."""
QWEN3_CODER = ToolCallingSpec(parser="qwen3_coder")
"""Qwen3-Coder: XML-style `<function=...>` calls."""
LLAMA3_JSON = ToolCallingSpec(parser="llama3_json")
"""Llama 3.1 / 3.3: JSON calls, with the checkpoint's own chat template."""
GPT_OSS = ToolCallingSpec(parser="openai")
"""gpt-oss: Harmony; `/v1/responses` always parses its calls, the parser serves chat."""


class ChatModelSpec(CatalogEntry):
    """A chat model: what sizing needs (weights, KV cache per token) and its context."""

    kind: Literal["chat"] = "chat"
    params_b: float = Field(gt=0, le=100_000)
    layers: int = Field(ge=1, le=1000)
    attention_heads: int = Field(ge=1, le=1024)
    kv_heads: int = Field(ge=1, le=1024)
    head_dim: int = Field(ge=1, le=4096)
    context: int = Field(ge=1, le=100_000_000)
    weights_gib: float | None = Field(default=None, gt=0, le=100_000)
    """Size of the published weights when not params x dtype bytes (e.g. MXFP4 checkpoints)."""
    gated: bool = False
    trust_remote_code: bool = False
    quantization: Quantization | None = None
    """The checkpoint's own quantization; None for 16-bit weights."""
    tool_calling: ToolCallingSpec | None = None
    """How vLLM serves its function calls; a chat model without it is refused."""

    @property
    def window(self) -> int:
        """The most tokens it takes: its context."""
        return self.context


class EmbeddingModelSpec(CatalogEntry):
    """An embedding model: its output dimension and input window."""

    kind: Literal["embedding"] = "embedding"
    params_b: float = Field(gt=0, le=100_000)
    dimension: int = Field(ge=1, le=65536)
    max_tokens: int = Field(ge=1, le=100_000_000)
    gated: bool = False
    trust_remote_code: bool = False
    quantization: Quantization | None = None
    """The checkpoint's own quantization; None for 16-bit weights."""

    @property
    def window(self) -> int:
        """The most tokens it takes: its input window."""
        return self.max_tokens


ModelSpec = Annotated[ChatModelSpec | EmbeddingModelSpec, Field(discriminator="kind")]


def _gpu(
    count: int,
    model: str,
    gib: float,
    vcpu: int,
    ram: float,
    usd: float,
    bf16: bool = True,
):
    return InstanceSpec(
        gpu_count=count, gpu_model=model, gib_per_gpu=gib, vcpu=vcpu, ram_gib=ram,
        usd_per_hour=usd, bf16=bf16,
    )  # fmt: skip


USABLE_MIB_PER_GPU = {
    "T4": 15360,
    "A10G": 23028,
    "L4": 23034,
    "L40S": 46068,
    "A100-40GB": 40960,
    "A100-80GB": 81920,
    "H100": 81559,
}
"""Total memory per GPU as nvidia-smi reports it; sources in
docs/reference/gpu-memory.md."""


def _usable_gib(gpu: str) -> float:
    return USABLE_MIB_PER_GPU[gpu] / 1024


def _cpu(vcpu: int, ram: float, usd: float) -> InstanceSpec:
    return InstanceSpec(gpu_count=0, vcpu=vcpu, ram_gib=ram, usd_per_hour=usd)


SEED_INSTANCES: dict[str, InstanceSpec] = {
    "g4dn.xlarge": _gpu(1, "T4", _usable_gib("T4"), 4, 16, 0.53, bf16=False),
    "g4dn.12xlarge": _gpu(4, "T4", _usable_gib("T4"), 48, 192, 3.91, bf16=False),
    "g5.xlarge": _gpu(1, "A10G", _usable_gib("A10G"), 4, 16, 1.01),
    "g5.2xlarge": _gpu(1, "A10G", _usable_gib("A10G"), 8, 32, 1.21),
    "g5.12xlarge": _gpu(4, "A10G", _usable_gib("A10G"), 48, 192, 5.67),
    "g5.48xlarge": _gpu(8, "A10G", _usable_gib("A10G"), 192, 768, 16.29),
    "g6.xlarge": _gpu(1, "L4", _usable_gib("L4"), 4, 16, 0.80),
    "g6.2xlarge": _gpu(1, "L4", _usable_gib("L4"), 8, 32, 0.98),
    "g6.12xlarge": _gpu(4, "L4", _usable_gib("L4"), 48, 192, 4.60),
    "g6.48xlarge": _gpu(8, "L4", _usable_gib("L4"), 192, 768, 13.35),
    "g6e.xlarge": _gpu(1, "L40S", _usable_gib("L40S"), 4, 32, 1.86),
    "g6e.2xlarge": _gpu(1, "L40S", _usable_gib("L40S"), 8, 64, 2.24),
    "g6e.12xlarge": _gpu(4, "L40S", _usable_gib("L40S"), 48, 384, 10.49),
    "g6e.48xlarge": _gpu(8, "L40S", _usable_gib("L40S"), 192, 1536, 30.13),
    "p4d.24xlarge": _gpu(8, "A100", _usable_gib("A100-40GB"), 96, 1152, 22.0),
    "p4de.24xlarge": _gpu(8, "A100", _usable_gib("A100-80GB"), 96, 1152, 27.0),
    "p5.48xlarge": _gpu(8, "H100", _usable_gib("H100"), 192, 2048, 55.0),
    "t3.small": _cpu(2, 2, 0.02),
    "t3.medium": _cpu(2, 4, 0.04),
    "c7i.large": _cpu(2, 4, 0.09),
}


def _chat(params_b: float, layers: int, heads: int, kv_heads: int, head_dim: int, context: int,
          **extra: Any) -> ChatModelSpec:  # fmt: skip
    return ChatModelSpec(
        params_b=params_b, layers=layers, attention_heads=heads, kv_heads=kv_heads,
        head_dim=head_dim, context=context, **extra,
    )  # fmt: skip


def _embedding(
    params_b: float, dimension: int, max_tokens: int, **extra: Any
) -> EmbeddingModelSpec:
    return EmbeddingModelSpec(
        params_b=params_b, dimension=dimension, max_tokens=max_tokens, **extra
    )


SEED_MODELS: dict[str, ChatModelSpec | EmbeddingModelSpec] = {
    "Qwen/Qwen2.5-Coder-7B-Instruct": _chat(7.6, 28, 28, 4, 128, 32768),
    "Qwen/Qwen2.5-Coder-14B-Instruct": _chat(14.7, 48, 40, 8, 128, 32768),
    "Qwen/Qwen2.5-Coder-32B-Instruct": _chat(32.5, 64, 40, 8, 128, 32768),
    "Qwen/Qwen3-8B": _chat(8.2, 36, 32, 8, 128, 32768),
    "Qwen/Qwen3-32B": _chat(32.8, 64, 64, 8, 128, 32768),
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": _chat(30.5, 48, 32, 4, 128, 262144),
    "meta-llama/Llama-3.1-8B-Instruct": _chat(8.0, 32, 32, 8, 128, 131072, gated=True),
    "meta-llama/Llama-3.3-70B-Instruct": _chat(70.6, 80, 64, 8, 128, 131072, gated=True),
    "openai/gpt-oss-20b": _chat(21, 24, 64, 8, 64, 131072, weights_gib=13, quantization="mxfp4"),
    "openai/gpt-oss-120b": _chat(117, 36, 64, 8, 64, 131072, weights_gib=65, quantization="mxfp4"),
    "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ": _chat(32.5, 64, 40, 8, 128, 32768, quantization="awq"),
    "Qwen/Qwen2.5-Coder-32B-Instruct-GPTQ-Int4": _chat(
        32.5, 64, 40, 8, 128, 32768, quantization="gptq"
    ),
    "Qwen/Qwen3-32B-AWQ": _chat(32.8, 64, 64, 8, 128, 32768, quantization="awq"),
    "Qwen/Qwen3-8B-FP8": _chat(8.2, 36, 32, 8, 128, 32768, quantization="fp8"),
    "BAAI/bge-small-en-v1.5": _embedding(0.033, 384, 512),
    "BAAI/bge-base-en-v1.5": _embedding(0.109, 768, 512),
    "BAAI/bge-large-en-v1.5": _embedding(0.335, 1024, 512),
    "BAAI/bge-m3": _embedding(0.568, 1024, 8192),
    "intfloat/e5-large-v2": _embedding(0.335, 1024, 512),
    "nomic-ai/nomic-embed-text-v1.5": _embedding(0.137, 768, 8192, trust_remote_code=True),
    "Qwen/Qwen3-Embedding-0.6B": _embedding(0.6, 1024, 32768),
    "Qwen/Qwen3-Embedding-4B": _embedding(4, 2560, 32768),
    "Qwen/Qwen3-Embedding-8B": _embedding(8, 4096, 32768),
    "jinaai/jina-embeddings-v2-base-code": _embedding(0.161, 768, 8192, trust_remote_code=True),
    "sentence-transformers/all-MiniLM-L6-v2": _embedding(0.023, 384, 256),
}

SEED_TOOL_CALLING: dict[str, ToolCallingSpec] = {
    "Qwen/Qwen2.5-Coder-7B-Instruct": HERMES,
    "Qwen/Qwen2.5-Coder-14B-Instruct": HERMES,
    "Qwen/Qwen2.5-Coder-32B-Instruct": HERMES,
    "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ": HERMES,
    "Qwen/Qwen2.5-Coder-32B-Instruct-GPTQ-Int4": HERMES,
    "Qwen/Qwen3-8B": QWEN3_HYBRID,
    "Qwen/Qwen3-8B-FP8": QWEN3_HYBRID,
    "Qwen/Qwen3-32B": QWEN3_HYBRID,
    "Qwen/Qwen3-32B-AWQ": QWEN3_HYBRID,
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": QWEN3_CODER,
    "meta-llama/Llama-3.1-8B-Instruct": LLAMA3_JSON,
    "meta-llama/Llama-3.3-70B-Instruct": LLAMA3_JSON,
    "openai/gpt-oss-20b": GPT_OSS,
    "openai/gpt-oss-120b": GPT_OSS,
}
"""Each seed chat model's family, for tool calling (kept apart from the sizing figures)."""
SEED_MODELS.update(
    (name, SEED_MODELS[name].model_copy(update={"tool_calling": family}))
    for name, family in SEED_TOOL_CALLING.items()
)


class Catalog(BaseModel):
    """Instance types and models known to this stack: the seed plus the stack's own entries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instances: dict[str, InstanceSpec]
    models: dict[str, ModelSpec]

    @classmethod
    def seed(cls) -> Catalog:
        return cls(instances=SEED_INSTANCES, models=SEED_MODELS)

    def instance(self, name: str) -> InstanceSpec | None:
        return self.instances.get(name)

    def chat_model(self, name: str) -> ChatModelSpec | None:
        spec = self.models.get(name)
        return spec if isinstance(spec, ChatModelSpec) else None

    def embedding_model(self, name: str) -> EmbeddingModelSpec | None:
        spec = self.models.get(name)
        return spec if isinstance(spec, EmbeddingModelSpec) else None

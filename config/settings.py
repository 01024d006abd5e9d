"""The typed settings of one stack: the schema of the `metis-llm:*` stack config.

Every field here is concrete: values a user may leave out are filled in before validation
by `config.defaults` (some depend on other keys or on the catalog), and cross-field rules
run afterwards in `config.rules`. Secrets never pass through these models: the loader only
records whether `metis-llm:hf_token` is set.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from config.catalog import Catalog, ChatModelSpec, EmbeddingModelSpec, InstanceSpec
from config.images import (
    DEFAULT_DCGM_EXPORTER_IMAGE,
    DEFAULT_GRAFANA_IMAGE,
    DEFAULT_LITELLM_IMAGE,
    DEFAULT_NODE_EXPORTER_IMAGE,
    DEFAULT_PROMETHEUS_IMAGE,
    DEFAULT_VLLM_IMAGE,
    KNOWN_VLLM_REPOSITORIES,
    VLLM_IMAGE_KINDS,
    ImageRef,
    Version,
    VllmImageKind,
    VllmKind,
    parse_version,
)
from config.numbers import NumbersFromText
from config.services import SERVICES, ServiceKey

HostName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,23}$")]
"""A host's name in the stack: it becomes part of resource names, so DNS-label style."""


class StrictModel(NumbersFromText):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class HostConfig(StrictModel):
    """One machine of the stack, `metis-llm:hosts.<name>`."""

    instance_type: str = "g6e.xlarge"
    disk_gib: int = Field(default=200, ge=30, le=16384)
    """Encrypted gp3 root volume: OS, images and model weights."""
    spot: bool = False
    subnet_id: str | None = Field(default=None, pattern=r"^subnet-[0-9a-f]{8,17}$")
    """Pins the host to a subnet of the stack's VPC; changing it moves (replaces) the host.
    Left out, the host stays wherever it was first placed."""


class ServiceConfig(StrictModel):
    """What chat and embedding services share: a model served by vLLM on some hosts."""

    model: str = Field(min_length=1, max_length=200)
    served_name: str = Field(min_length=1, max_length=200)
    """The name clients send as `model` (defaults to the model)."""
    hosts: list[HostName] = Field(min_length=1)
    """One replica per host listed."""
    tensor_parallel_size: int = Field(default=1, ge=1, le=64)
    first_gpu: int = Field(default=0, ge=0, le=63)
    """GPUs used: first_gpu .. first_gpu + tensor_parallel_size - 1."""
    max_model_len: int = Field(ge=16, le=10_000_000)
    gpu_memory_utilization: float = Field(gt=0, le=0.95)
    dtype: Literal["auto", "bfloat16", "float16"] = "auto"
    quantization: Literal["awq", "gptq", "fp8"] | None = None
    extra_args: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=64
    )
    """Passed to vLLM verbatim, after the flags this project manages are refused."""

    @property
    def gpu_ids(self) -> range:
        return range(self.first_gpu, self.first_gpu + self.tensor_parallel_size)

    @property
    def vector_dimension(self) -> int | None:
        """The length of the vectors it returns: None for a chat service."""
        return None


class ChatConfig(ServiceConfig):
    """`metis-llm:chat`."""

    gpu_memory_utilization: float = Field(default=0.80, gt=0, le=0.95)


class EmbeddingConfig(ServiceConfig):
    """`metis-llm:embedding`."""

    gpu_memory_utilization: float = Field(default=0.10, gt=0, le=0.95)
    dimension: int = Field(ge=1, le=65536)
    """Output dimension; Metis's `embed_dim` (its vector column) must equal it."""

    @property
    def vector_dimension(self) -> int | None:
        return self.dimension


DOMAIN_PORT = 443
TlsMode = Literal["self-signed", "domain", "plain-http"]

DNS_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
"""A fully qualified DNS name in lower case, without the trailing dot."""


class RouterDomainConfig(StrictModel):
    """`metis-llm:router.domain`: serve the router under a name of a Route53 hosted zone,
    with an ACM certificate on a load balancer's TLS listener."""

    hosted_zone_id: str = Field(pattern=r"^Z[0-9A-Z]{1,32}$")
    name: str = Field(max_length=253, pattern=DNS_NAME)
    """The router's name, inside the hosted zone (e.g. llm.example.com)."""


class RouterConfig(StrictModel):
    """`metis-llm:router`: the LiteLLM proxy, the only service reachable from outside."""

    host: HostName
    port: int = Field(default=8888, ge=1024, le=65535)
    allowed_cidrs: list[str] = Field(max_length=50)
    """Who may call the router."""
    allow_public: bool = False
    """Required to list 0.0.0.0/0 or ::/0 in allowed_cidrs."""
    num_workers: int = Field(default=2, ge=1, le=64)
    timeout_seconds: int = Field(default=600, ge=10, le=3600)
    """Per request to a backend; long code reviews take minutes."""
    domain: RouterDomainConfig | None = None
    """Left out, the router serves HTTPS with the stack's own CA at its Elastic IP."""
    plain_http: bool = False
    """Serve plain HTTP: code under review and the router key cross the network in clear.
    Only on request, never with a domain."""

    @property
    def tls_mode(self) -> TlsMode:
        if self.plain_http:
            return "plain-http"
        return "domain" if self.domain else "self-signed"

    @property
    def public_port(self) -> int:
        """The port clients call: the load balancer's 443 in domain mode, else the router's."""
        return DOMAIN_PORT if self.domain else self.port


class AccessConfig(StrictModel):
    """`metis-llm:access`: how `pulumi up` reaches the hosts' Docker (always over SSH)."""

    mode: Literal["ssm", "ssh"] = "ssm"
    """ssm: SSH tunnelled through AWS Session Manager, no inbound port 22.
    ssh: direct SSH to the public IPs, from admin_cidrs only."""
    admin_cidrs: list[str] = Field(default_factory=list, max_length=50)
    ssh_public_key: str = Field(min_length=1, max_length=16384)
    """Installed on every host; its private half must be in the deployer's ssh-agent
    (or at ssh_identity_file)."""
    ssh_identity_file: str | None = Field(default=None, min_length=1, max_length=4096)


class ImagesConfig(StrictModel):
    """`metis-llm:images`: exact versions only."""

    vllm: str = DEFAULT_VLLM_IMAGE
    litellm: str = DEFAULT_LITELLM_IMAGE
    vllm_kind: VllmKind | None = None
    """Command form of the vLLM image, for repositories this project does not know."""
    vllm_version: str | None = Field(default=None, pattern=r"^\d{1,4}\.\d{1,4}(\.\d{1,4})?$")
    """The vLLM version inside the image, when its tag does not say it (NGC, digests)."""

    @property
    def vllm_ref(self) -> ImageRef | None:
        return ImageRef.parse(self.vllm)

    @property
    def litellm_ref(self) -> ImageRef | None:
        return ImageRef.parse(self.litellm)

    @property
    def vllm_image_kind(self) -> VllmImageKind | None:
        ref = self.vllm_ref
        kind = self.vllm_kind or (KNOWN_VLLM_REPOSITORIES.get(ref.repository) if ref else None)
        return VLLM_IMAGE_KINDS[kind] if kind else None

    @property
    def vllm_version_in_image(self) -> Version | None:
        if self.vllm_version:
            return parse_version(self.vllm_version)
        kind, ref = self.vllm_image_kind, self.vllm_ref
        return ref.release_version(kind.tags) if kind and ref else None


MetisVersion = Literal["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"]


class MetisConfig(StrictModel):
    """`metis-llm:metis`: what the rendered metis.yaml is for."""

    version: MetisVersion = "1.5"
    query_max_tokens: int = Field(default=1024, ge=1, le=1_000_000)
    temperature: float = Field(default=0.0, ge=0, le=2)
    doc_chunk_size: int = Field(ge=16, le=1_000_000)
    doc_chunk_overlap: int = Field(ge=0, le=1_000_000)
    max_token_length: int = Field(ge=16, le=10_000_000)
    """Metis's RAG context window; must not exceed the chat model's max_model_len."""

    @property
    def layout(self) -> Literal["1.4", "1.5"]:
        """1.5 moved the embedding keys into their own `embedding_provider` block."""
        return "1.5" if self.version == "1.5" else "1.4"


class NetworkConfig(StrictModel):
    """`metis-llm:network`: where the hosts go (the default VPC unless named)."""

    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnet_id: str | None = Field(default=None, pattern=r"^subnet-[0-9a-f]{8,17}$")


class MonitoringImagesConfig(StrictModel):
    """`metis-llm:monitoring.images`: exact versions only."""

    prometheus: str = DEFAULT_PROMETHEUS_IMAGE
    grafana: str = DEFAULT_GRAFANA_IMAGE
    node_exporter: str = DEFAULT_NODE_EXPORTER_IMAGE
    dcgm_exporter: str = DEFAULT_DCGM_EXPORTER_IMAGE


class MonitoringConfig(StrictModel):
    """`metis-llm:monitoring`: Prometheus and Grafana on the router host (127.0.0.1 only),
    node-exporter on every host, dcgm-exporter on every GPU host."""

    enabled: bool = True
    retention_days: int = Field(default=15, ge=1, le=3650)
    retention_gib: int = Field(default=4, ge=1, le=1024)
    """Prometheus drops its oldest data past either bound, whichever comes first."""
    waiting_requests_alert: int = Field(default=10, ge=1, le=1_000_000)
    """Alert when a replica keeps more requests than this waiting for 5 minutes."""
    images: MonitoringImagesConfig = MonitoringImagesConfig()


class ScheduleConfig(StrictModel):
    """`metis-llm:schedule`: working hours. EventBridge Scheduler starts and stops the
    stack's instances at these times (config/cron.py reads the expressions)."""

    start: str = Field(min_length=1, max_length=256)
    """e.g. cron(0 7 ? * MON-FRI *)"""
    stop: str = Field(min_length=1, max_length=256)
    timezone: str = Field(min_length=1, max_length=64)
    """IANA name the expressions are read in, e.g. Europe/Berlin."""


class IdleStopConfig(StrictModel):
    """`metis-llm:idle_stop`: stop every host once no request ran or finished anywhere in
    the stack for this many minutes (one CloudWatch alarm per host, EC2's stop action)."""

    minutes: int = Field(default=30, ge=1, le=1440)
    """At most a day: an alarm's evaluation window cannot be longer."""


class Settings(StrictModel):
    """Everything one stack deploys, validated."""

    hosts: dict[HostName, HostConfig] = Field(min_length=1, max_length=32)
    chat: ChatConfig
    embedding: EmbeddingConfig
    router: RouterConfig
    access: AccessConfig
    images: ImagesConfig = ImagesConfig()
    metis: MetisConfig
    network: NetworkConfig = NetworkConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    schedule: ScheduleConfig | None = None
    idle_stop: IdleStopConfig | None = None
    catalog: Catalog
    """The seed catalog merged with the stack's `metis-llm:catalog` entries."""
    has_hf_token: bool = False

    @property
    def stops(self) -> bool:
        """Hosts are stopped and started while the stack exists (schedule or idle stop)."""
        return self.schedule is not None or self.idle_stop is not None

    def instance(self, host: str) -> InstanceSpec | None:
        config = self.hosts.get(host)
        return self.catalog.instance(config.instance_type) if config else None

    @property
    def chat_spec(self) -> ChatModelSpec | None:
        return self.catalog.chat_model(self.chat.model)

    @property
    def embedding_spec(self) -> EmbeddingModelSpec | None:
        return self.catalog.embedding_model(self.embedding.model)

    @property
    def services(self) -> dict[ServiceKey, ServiceConfig]:
        """The vLLM services' settings by key, in start order (`config.services`)."""
        return {key: getattr(self, key) for key in SERVICES}

    def model_spec(self, key: ServiceKey) -> ChatModelSpec | EmbeddingModelSpec | None:
        """The catalog entry of a service's model, when the catalog lists it as a model of
        that service's kind."""
        spec = self.catalog.models.get(self.services[key].model)
        return spec if spec is not None and spec.kind == key else None

    def services_on(self, host: str) -> list[ServiceKey]:
        """Keys of the vLLM services with a replica on a host."""
        return [key for key, service in self.services.items() if host in service.hosts]

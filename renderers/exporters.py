"""The exporters on each host: node-exporter (CPU, memory, disk) everywhere, NVIDIA's
dcgm-exporter (GPU utilization, memory, temperature, power) on GPU hosts. Both listen on the
host's private IP only, where the stack's own group lets Prometheus in."""

from __future__ import annotations

from dataclasses import dataclass

from config.ports import DCGM_EXPORTER_PORT, NODE_EXPORTER_PORT
from config.settings import Settings

NODE_EXPORTER_CONTAINER = "node-exporter"
HOST_ROOT = "/host"
"""The host's / inside the node-exporter container, read-only."""

DCGM_EXPORTER_CONTAINER = "dcgm-exporter"
DCGM_COUNTERS_PATH = "/etc/dcgm-exporter/metis-llm.csv"
DCGM_COUNTERS_ENV = "DCGM_EXPORTER_COLLECTORS"
"""dcgm-exporter reads the path of its counters file from here (`-f`, pkg/cmd/app.go)."""


@dataclass(frozen=True)
class DcgmCounter:
    field: str
    """The DCGM field, which is also the exported metric's name."""
    kind: str
    help: str


DCGM_COUNTERS = (
    DcgmCounter("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    DcgmCounter("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    DcgmCounter("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    DcgmCounter("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    DcgmCounter("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    DcgmCounter("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
    DcgmCounter("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    DcgmCounter(
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ).",
    ),
    DcgmCounter("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    DcgmCounter("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
)
"""Fields of dcgm-exporter's own default-counters.csv (NVIDIA/dcgm-exporter etc/), without
the profiling fields (`DCGM_FI_PROF_*`), which need the container to hold CAP_SYS_ADMIN."""


def runs_dcgm_exporter(settings: Settings, host: str) -> bool:
    """Whether a host runs dcgm-exporter: it has GPUs (node-exporter runs on every host)."""
    spec = settings.instance(host)
    return spec is not None and spec.has_gpu


def render_dcgm_counters() -> str:
    """The counters file in dcgm-exporter's format: `field, type, help` per line."""
    lines = ["# DCGM field, Prometheus metric type, help message (metis-llm)"]
    lines += [f"{c.field}, {c.kind}, {c.help}" for c in DCGM_COUNTERS]
    return "\n".join(lines) + "\n"


def dcgm_exporter_env() -> dict[str, str]:
    return {DCGM_COUNTERS_ENV: DCGM_COUNTERS_PATH, "DCGM_EXPORTER_LISTEN": f":{DCGM_EXPORTER_PORT}"}


def node_exporter_command(private_ip: str) -> list[str]:
    """The container command (the image's ENTRYPOINT is node_exporter): the host's
    filesystems read through its root mounted at /host, listening on the private IP only."""
    return [f"--path.rootfs={HOST_ROOT}", f"--web.listen-address={private_ip}:{NODE_EXPORTER_PORT}"]

"""A stand-in for NVIDIA's dcgm-exporter on a GPU host (there is no GPU here).

It serves `/metrics` the way dcgm-exporter renders GPU fields
(NVIDIA/dcgm-exporter internal/pkg/rendermetrics/render_metrics.go, `gpuMetricsFormat`, at
5f9250c2): for every field of the counters file it is given (the rendered one, in
dcgm-exporter's `field, type, help` format), `# HELP` and `# TYPE` lines, then one sample
per GPU named after the field and labelled `gpu` (the index), `UUID`, `pci_bus_id`,
`device` (`nvidiaN`) and `modelName`. No `Hostname` label: the exporter adds it only when
it knows the node's name (Kubernetes). Values are fixed, plausible readings; a test may set
any of them.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testbed.lifecycle import BackgroundServer

READINGS = {
    "DCGM_FI_DEV_GPU_UTIL": 42.0,
    "DCGM_FI_DEV_MEM_COPY_UTIL": 12.0,
    "DCGM_FI_DEV_FB_FREE": 2300.0,
    "DCGM_FI_DEV_FB_USED": 20700.0,
    "DCGM_FI_DEV_GPU_TEMP": 61.0,
    "DCGM_FI_DEV_MEMORY_TEMP": 0.0,
    "DCGM_FI_DEV_POWER_USAGE": 54.3,
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": 123456789.0,
    "DCGM_FI_DEV_SM_CLOCK": 2040.0,
    "DCGM_FI_DEV_XID_ERRORS": 0.0,
}


def parse_counters(text: str) -> list[tuple[str, str, str]]:
    """(field, type, help) per line of a counters file; `#` lines are comments."""
    counters = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            field, kind, help_text = (part.strip() for part in line.split(",", 2))
            counters.append((field, kind, help_text))
    return counters


class FakeDcgmExporter(BackgroundServer):
    """dcgm-exporter for `gpus` GPUs of one model, on host:port, in a daemon thread (the
    socket is bound at construction, so it answers as soon as the thread runs)."""

    def __init__(self, counters_csv: str, *, host: str, port: int, gpus: int, model: str) -> None:
        self.counters = parse_counters(counters_csv)
        self.readings = dict(READINGS)
        self.gpus = gpus
        self.model = model
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    def __str__(self) -> str:
        host, port = self._server.server_address[:2]
        return f"dcgm-exporter stand-in on {host!s}:{port}"

    def exposition(self) -> str:
        lines = []
        for field, kind, help_text in self.counters:
            lines += [f"# HELP {field} {help_text}", f"# TYPE {field} {kind}"]
            for gpu in range(self.gpus):
                labels = (
                    f'gpu="{gpu}",UUID="GPU-{gpu:08x}-0000-0000-0000-000000000000",'
                    f'pci_bus_id="00000000:{gpu + 0x30:02X}:00.0",device="nvidia{gpu}",'
                    f'modelName="{self.model}"'
                )
                lines.append(f"{field}{{{labels}}} {self.readings.get(field, 0.0)}")
        return "\n".join(lines) + "\n"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _launch(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _ready(self) -> bool:
        return True

    def _ended(self) -> str | None:
        return None

    def stop(self) -> None:
        """Stop serving and release the port (it does not start again)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

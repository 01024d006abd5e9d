"""Run the real LiteLLM proxy (the installed ``litellm`` CLI) as a subprocess for tests.

The config TEXT is written to a fresh temporary directory, which is also the
process's working directory, and secrets reach the proxy only through its
environment (``LITELLM_MASTER_KEY``, ``VLLM_BACKEND_KEY``), exactly as the
rendered config expects them (``os.environ/...``). The environment is built from
scratch (no inherited ``OPENAI_*``, ``DATABASE_URL``, proxies, ...) and keeps
the proxy offline and quiet:

- ``LITELLM_LOCAL_MODEL_COST_MAP=True``: use the bundled price map. Otherwise
  ``import litellm`` fetches it from GitHub (one blocking attempt with a 5 s
  timeout, then retries in a background thread); with it, the proxy makes no
  connection except to its backends (checked with strace).
- ``LITELLM_MODE=PRODUCTION``: never load a ``.env``. (The CLI's ``.env``
  search starts from the installed ``litellm`` package directory and walks up,
  not from the working directory, so a project-root ``.env`` could leak in.)
- ``LITELLM_DONT_SHOW_FEEDBACK_BOX=True``: no banner.
- ``LITELLM_LOG=WARNING``: no per-request access-log line (warnings, errors and
  tracebacks still reach the log); pass ``env={"LITELLM_LOG": "INFO"}`` to see them.
- ``HOME`` is the temporary directory, so nothing is read from or cached in
  the real home directory.

Example::

    with LitellmProxy(config_text, master_key="sk-master", backend_key="sk-vllm") as proxy:
        openai.OpenAI(base_url=proxy.base_url, api_key="sk-master").models.list()
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from renderers.litellm import MASTER_KEY_ENV, PLAIN_ENV, ROUTER_BACKEND_KEY_ENV, tls_flags
from testbed.certificates import TlsFiles
from testbed.lifecycle import HOST, free_port
from testbed.server_process import ServerProcess

LITELLM = Path(sys.executable).with_name("litellm")
"""The CLI of the ``litellm[proxy]`` installed next to this interpreter."""

CONFIG_NAME = "config.yaml"
READINESS_PATH = "/health/readiness"
"""Answers 200 once the proxy has loaded its config (no key needed)."""


def proxy_env(
    master_key: str | None = None,
    backend_key: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a proxy process: the router container's plain environment
    (as deployed), keys by variable, nothing else from this machine."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
        **PLAIN_ENV,
    }
    if master_key is not None:
        env[MASTER_KEY_ENV] = master_key
    if backend_key is not None:
        env[ROUTER_BACKEND_KEY_ENV] = backend_key
    env.update(extra or {})
    return env


def validate_config(
    config_text: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> tuple[bool, str]:
    """Run ``litellm --config FILE --validate_config``: (exit code 0, combined output).

    ``env`` defaults to :func:`proxy_env` with placeholder keys, since the
    ``os.environ/...`` references are resolved while loading.
    """
    if env is None:
        env = proxy_env("sk-validate-master", "sk-validate-backend")
    with tempfile.TemporaryDirectory(prefix="litellm-validate-") as workdir:
        Path(workdir, CONFIG_NAME).write_text(config_text)
        done = subprocess.run(
            [str(LITELLM), "--config", CONFIG_NAME, "--validate_config"],
            cwd=workdir,
            env={"HOME": workdir, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    return done.returncode == 0, done.stdout


class LitellmProxy(ServerProcess):
    """One ``litellm --config ... --port ...`` process, bound to 127.0.0.1.

    Use as a context manager, or call :meth:`start` and (always) :meth:`stop`.
    The process runs in its own process group, which :meth:`stop` kills whole
    (workers included).
    """

    poll_seconds = 0.2
    log_name = "proxy.log"
    folder_prefix = "litellm-proxy-"

    def __init__(
        self,
        config_text: str,
        *,
        master_key: str | None = "sk-test-master",
        backend_key: str | None = "sk-test-backend",
        num_workers: int = 1,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 120.0,
        tls: TlsFiles | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        """Describe the proxy; nothing runs until :meth:`start`.

        Args:
            config_text: the YAML config, verbatim.
            master_key: exported as ``LITELLM_MASTER_KEY``.
            backend_key: exported as ``VLLM_BACKEND_KEY``.
            num_workers: ``--num_workers``.
            port: ``--port``; a free one by default.
            env: extra environment variables (override the defaults).
            start_timeout: seconds to wait for ``/health/readiness``.
            tls: serve HTTPS with these files (the router's TLS flags, as rendered).
            extra_args: more CLI flags (e.g. ``--run_granian``).
        """
        super().__init__()
        self.tls = tls
        self.extra_args = list(extra_args)
        self.config_text = config_text
        self.master_key = master_key
        self.num_workers = num_workers
        self.port = port if port is not None else free_port()
        self.env = proxy_env(master_key, backend_key, env)
        self.start_timeout = start_timeout

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT`` (health routes live here)."""
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http(s)://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    def verify(self) -> ssl.SSLContext | bool:
        """What an httpx client given explicitly should verify with: the proxy's CA."""
        if self.tls is None:
            return True
        return ssl.create_default_context(cafile=str(self.tls.ca_file))

    def headers(self, key: str | None = None) -> dict[str, str]:
        """``Authorization`` header with ``key`` (default: the master key)."""
        return {"Authorization": f"Bearer {key or self.master_key}"}

    def __str__(self) -> str:
        return f"litellm on {HOST}:{self.port}"

    @property
    def ready_url(self) -> str:
        return f"{self.url}{READINESS_PATH}"

    def _command(self) -> list[str]:
        command = [
            str(LITELLM), "--config", CONFIG_NAME, "--host", HOST, "--port", str(self.port),
            "--num_workers", str(self.num_workers),
        ]  # fmt: skip
        if self.tls is not None:
            command += tls_flags(str(self.tls.cert_file), str(self.tls.key_file))
        return command + self.extra_args

    def _files(self) -> dict[str, str]:
        return {CONFIG_NAME: self.config_text}

    def _env(self, workdir: Path) -> dict[str, str]:
        """HOME and TMPDIR in the proxy's own folder: with several workers and the Prometheus
        callback, LiteLLM 1.108.7 keeps its metrics in `$TMPDIR/litellm_prometheus_multiproc`
        and wipes it at start (`proxy_cli.py` `maybe_setup_prometheus_multiproc_dir`), so
        proxies sharing /tmp would mix and erase each other's metrics."""
        return {"HOME": str(workdir), "TMPDIR": str(workdir), **self.env}

    def stop(self, grace: float = 10.0) -> None:
        """Stop the whole process group and remove the temporary directory.

        SIGTERM first; whatever is left after ``grace`` seconds (workers, the
        multiprocessing resource tracker, which ignores SIGTERM) gets SIGKILL,
        and this returns once no process of the group remains.
        """
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    break
                process.poll()
                time.sleep(0.05)
        self._remove_workdir()

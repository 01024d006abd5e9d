"""A program serving HTTP, run as a process on the background-server lifecycle: in a session
of its own (so it can be stopped with all it spawned), from a fresh temporary folder that is
its working directory and holds its files and its log, ready once a URL answers 200. The
real LiteLLM proxy runs so, and so do the tests' Prometheus."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path

import httpx

from testbed.lifecycle import ProcessServer


class ServerProcess(ProcessServer):
    """Subclasses say what runs (`_command`, `_files`, `_env`), when it is ready
    (`ready_url`) and how it stops (`stop`, which ends with `_remove_workdir`)."""

    log_name = "server.log"
    folder_prefix = "server-"

    def __init__(self) -> None:
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log = ""

    @property
    @abstractmethod
    def ready_url(self) -> str:
        """Answers 200 once the server serves."""

    @abstractmethod
    def _command(self) -> list[str]:
        """The command line, run in the working directory."""

    def _files(self) -> Mapping[str, str]:
        """Text files written into the working directory first, by name."""
        return {}

    def _env(self, workdir: Path) -> Mapping[str, str] | None:
        """The process's whole environment; None inherits this one."""
        return None

    def _launch(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix=self.folder_prefix))
        for name, text in self._files().items():
            (self._workdir / name).write_text(text)
        with (self._workdir / self.log_name).open("wb") as log:
            self._process = subprocess.Popen(
                self._command(),
                cwd=self._workdir,
                env=self._env(self._workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def verify(self) -> ssl.SSLContext | bool:
        """What an httpx client should verify the server's certificate with (over HTTPS)."""
        return True

    def _ready(self) -> bool:
        try:
            return httpx.get(self.ready_url, timeout=2.0, verify=self.verify()).status_code == 200
        except httpx.TransportError:
            return False

    def _ended(self) -> str | None:
        code = self._process.poll() if self._process is not None else None
        return None if code is None else f"exited with {code}"

    def log(self) -> str:
        """Everything the process wrote to stdout and stderr so far (kept after it stops)."""
        if self._workdir is not None and (self._workdir / self.log_name).exists():
            return (self._workdir / self.log_name).read_text(errors="replace")
        return self._log

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of :meth:`log`."""
        return "\n".join(self.log().splitlines()[-lines:])

    def _remove_workdir(self) -> None:
        """Keep the log, remove the working directory."""
        if self._workdir is not None:
            self._log = self.log()
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

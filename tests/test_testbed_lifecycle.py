"""The one lifecycle of the background servers in testbed/: started only once ready, stopped
whatever happens, and a failed start says why and leaves nothing running."""

from __future__ import annotations

import pytest

from testbed.lifecycle import BackgroundServer, ServerStartError


class ScriptedServer(BackgroundServer):
    """A server that is ready after some polls, or ends early with a reason."""

    poll_seconds = 0.001

    def __init__(self, ready_after: int | None = 0, ends_with: str | None = None) -> None:
        self.ready_after, self.ends_with = ready_after, ends_with
        self.launched = self.stopped = 0
        self.polls = 0

    @property
    def running(self) -> bool:
        return self.launched > self.stopped

    def _launch(self) -> None:
        self.launched += 1

    def _ready(self) -> bool:
        self.polls += 1
        return self.ready_after is not None and self.polls > self.ready_after

    def _ended(self) -> str | None:
        return self.ends_with

    def stop(self) -> None:
        self.stopped = self.launched

    def log_tail(self) -> str:
        return "last log line"

    def __str__(self) -> str:
        return "scripted"


def test_start_returns_once_the_server_is_ready():
    server = ScriptedServer(ready_after=3)
    assert server.start() is server
    assert server.running
    assert server.polls == 4
    assert server.startup_seconds is not None


def test_a_server_that_ends_before_it_is_ready_is_reported_with_its_log():
    server = ScriptedServer(ends_with="exited with 1")
    with pytest.raises(ServerStartError) as raised:
        server.start()
    assert str(raised.value) == "scripted exited with 1 before it was ready:\nlast log line"
    assert not server.running


def test_a_server_never_ready_is_stopped_and_reported_after_the_timeout():
    server = ScriptedServer(ready_after=None)
    with pytest.raises(ServerStartError, match=r"^scripted was not ready after 0.01 s:"):
        server.start(timeout=0.01)
    assert not server.running


def test_a_running_server_is_not_started_twice():
    server = ScriptedServer().start()
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    assert server.launched == 1


def test_a_with_block_stops_the_server_whatever_happens():
    server = ScriptedServer()
    seen_running = []

    def fail_inside() -> None:
        with server:
            seen_running.append(server.running)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_inside()
    assert seen_running == [True]
    assert not server.running


def test_each_proxy_keeps_its_temporary_files_and_metrics_in_its_own_folder(tmp_path):
    from testbed.litellm_proxy import LitellmProxy

    env = LitellmProxy("model_list: []\n")._env(tmp_path)

    assert env["TMPDIR"] == str(tmp_path)

"""The host's Docker CLI and daemon."""

from __future__ import annotations

import json
import os

from .state import error, happened, host_dir, now, say, this_host


def docker_running(host_id: str, host: dict) -> bool:
    if host["role"] == "gpu":
        return True
    return happened(host_id, "docker_installed", by=now()) is not None


def fake_docker(args: list[str]) -> int:
    """Docker CLI 27 against the host's daemon: `--version`, `info --format`, `image prune`.
    A caller outside the docker group (and not root) gets the daemon socket's permission
    error (docker/cli, client.go); a stopped daemon, the "Cannot connect" error."""
    host_id, host = this_host()
    if host["role"] == "cpu" and happened(host_id, "docker_installed", by=now()) is None:
        error("bash: line 1: docker: command not found")
        return 127
    if args == ["--version"]:
        say("Docker version 27.5.1, build 9f9e405")
        return 0
    allowed = os.environ.get("FAKE_USER") == "root" or "docker" in os.environ.get(
        "FAKE_GROUPS", ""
    ).split(",")
    if not docker_running(host_id, host):
        error(
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?"
        )
        return 1
    if not allowed:
        error(
            "permission denied while trying to connect to the Docker daemon socket at "
            'unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.47/info": '
            "dial unix /var/run/docker.sock: connect: permission denied"
        )
        return 1
    if args[:1] == ["info"]:
        say("docker 27.5.1")
        return 0
    if args[:2] == ["image", "prune"] and {"--all", "--force"} <= set(args[2:]):
        images_file = host_dir(host_id) / "images.json"
        images = json.loads(images_file.read_text()) if images_file.exists() else []
        kept = [image for image in images if image["used"]]
        gone = [image for image in images if not image["used"]]
        images_file.write_text(json.dumps(kept))
        if gone:
            say("Deleted Images:")
            for image in gone:
                say(f"untagged: {image['name']}")
        say(f"\nTotal reclaimed space: {sum(image['gb'] for image in gone)}GB")
        return 0
    error(f"fake docker: unsupported {args}")
    return 1

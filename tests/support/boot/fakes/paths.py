"""Paths: a host's files live under its own root directory, and its programs on its PATH."""

from __future__ import annotations

from pathlib import Path

# re, signal and subprocess are imported where needed: every fake is a new process, and a
# scenario runs hundreds of them.


def translate(text: str, root: str, host_dirs: list[str]) -> str:
    """Move the host's absolute paths under `root`; nothing else changes."""
    import re

    for directory in sorted(host_dirs, key=len, reverse=True):
        text = re.sub(rf"(?<![\w./-]){re.escape(directory)}(?![\w.-])", root + directory, text)
    return text


def untranslate(text: str, host: Path) -> str:
    """What a program on the host would have printed: its paths without the host's root."""
    for root in ("root.after", "root.before", "root"):
        text = text.replace(f"{host / root}", "")
    return text


def untranslated(text: str) -> list[str]:
    """Absolute system paths left in a translated text (a host path the harness missed)."""
    import re

    return re.findall(r"(?<![\w./-])/(?:etc|var|opt|srv|home|root)/[\w./-]*", text)


def link_program(bin_dir: Path, name: str) -> None:
    """Put a fake program on a host's PATH (as a package install would)."""
    (bin_dir / name).symlink_to(bin_dir / ".fake")

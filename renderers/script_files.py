"""The files under renderers/scripts/ as text: what goes onto a host or into a container."""

from __future__ import annotations

from importlib import resources


def script_text(name: str) -> str:
    return resources.files("renderers").joinpath("scripts", name).read_text()

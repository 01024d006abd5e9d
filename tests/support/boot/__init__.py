"""Boot scenarios: the project's rendered host scripts (bootstrap, readiness check, image
prune) run unchanged against scripted fakes of ssh, cloud-init, Docker, apt, systemd and the
NVIDIA tools, on a virtual clock. See world.py (the harness) and fakes/ (the programs)."""

from tests.support.boot.world import AptLock, BootWorld, HostSpec, Outcome

__all__ = ["AptLock", "BootWorld", "HostSpec", "Outcome"]

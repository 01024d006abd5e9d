"""Scripted stand-ins for the programs a first boot and `pulumi up` meet, on a virtual clock.

Each fake is an executable on PATH (`python3 -I -S`, standard library only) that reads the
world the test described (tests/support/boot/world.py) and plays the behaviour of the real
program named in its docstring, with that program's messages and exit codes. Time is a
number in a file: `sleep`, a wait for cloud-init or for apt's lock advance it, so a
scenario spanning half an hour runs in a second.

Modules: `state` (the world, its clock and events), `paths` (the hosts' files and PATH),
`ssh` (the deployer's side), and on the hosts `docker`, `apt` and `host` (the others).

Deployer side: `ssh` (and `sleep`, `date`, which are bash: world.py). Host side (run
inside an SSH session or as the bootstrap): `cloud-init`, `docker`, `nvidia-smi`,
`nvidia-ctk`, `apt-get`, `usermod`, `systemctl`, `sleep`, `timeout`, `python3` (the real
interpreter).

A session or a timeout that ends while a fake waits is honoured: the fake stops at that
moment, exits like `timeout` (124), or, when the SSH session drops, kills the session's
process group as sshd does when the connection goes away.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .apt import fake_apt_get
from .docker import fake_docker
from .host import (
    fake_cloud_init,
    fake_nvidia_ctk,
    fake_nvidia_smi,
    fake_python3,
    fake_sleep,
    fake_systemctl,
    fake_timeout,
    fake_usermod,
)
from .paths import link_program, translate, untranslate, untranslated
from .ssh import fake_ssh
from .state import EPOCH, show_files_as_of

__all__ = [
    "EPOCH",
    "link_program",
    "main",
    "show_files_as_of",
    "translate",
    "untranslate",
    "untranslated",
]

FAKES = {
    "ssh": fake_ssh,
    "sleep": fake_sleep,
    "timeout": fake_timeout,
    "cloud-init": fake_cloud_init,
    "docker": fake_docker,
    "nvidia-smi": fake_nvidia_smi,
    "nvidia-ctk": fake_nvidia_ctk,
    "apt-get": fake_apt_get,
    "usermod": fake_usermod,
    "systemctl": fake_systemctl,
    "python3": fake_python3,
}


def main() -> int:
    return FAKES[Path(sys.argv[0]).name](sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

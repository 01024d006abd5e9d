"""Example values the shipped stack files carry so that the offline plan runs as cloned: an
SSH key whose private half nobody holds, documentation-only address blocks. A real
`pulumi preview` or `pulumi up` refuses them before anything is created (config.stack).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from config.errors import ConfigError, Problem, config_key
from config.settings import Settings

EXAMPLE_SSH_KEYS = frozenset(
    {"AAAAC3NzaC1lZDI1NTE5AAAAIP/3uSePucsLDiJ348m/ruKvaB5OxJKEWkLHM58cSmYn"}
)
"""Key material of the example key in Pulumi.dev.yaml and Pulumi.prod.yaml."""

DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(block)
    for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
"""Reserved for documentation (RFC 5737, RFC 3849): no real client or admin has them."""

SET_KEY = 'pulumi config set --path metis-llm:access.ssh_public_key "$(cat ~/.ssh/id_ed25519.pub)"'


def _documentation_only(cidr: str) -> bool:
    network = ipaddress.ip_network(cidr, strict=False)
    return any(
        network.version == block.version and network.subnet_of(block)
        for block in DOCUMENTATION_NETWORKS
    )


def _cidr_placeholders(path: tuple[str, str], cidrs: list[str], who: str) -> Iterator[Problem]:
    """Each example block, with a fix that replaces the whole list: setting one index alone
    would leave the list's other examples in place."""
    key = f"metis-llm:{'.'.join(path)}"
    for index, cidr in enumerate(cidrs):
        if _documentation_only(cidr):
            yield Problem(
                config_key(*path, index),
                cidr,
                f"a documentation-only address block (RFC 5737/3849): {who}",
                f"replace the whole list: pulumi config rm --path '{key}' && "
                f"pulumi config set --path '{key}[0]' <your CIDR> (then [1], ... for more), "
                f'e.g. "$(curl -s https://checkip.amazonaws.com)/32"',
            )


def placeholder_problems(settings: Settings) -> list[Problem]:
    """Every example value a real deployment cannot work with, each naming the key to set."""
    problems = []
    fields = settings.access.ssh_public_key.split()
    if len(fields) > 1 and fields[1] in EXAMPLE_SSH_KEYS:
        problems.append(
            Problem(
                config_key("access", "ssh_public_key"),
                " ".join(fields[:2])[:40] + "...",
                "the example key shipped with the stack: nobody holds its private half, so "
                "Pulumi could never reach the hosts",
                SET_KEY,
            )
        )
    problems += _cidr_placeholders(
        ("router", "allowed_cidrs"),
        settings.router.allowed_cidrs,
        "no real client calls from there, so nobody could reach the router",
    )
    problems += _cidr_placeholders(
        ("access", "admin_cidrs"),
        settings.access.admin_cidrs,
        "no real admin connects from there, so SSH would be open to nobody who needs it",
    )
    return problems


class PlaceholderError(ConfigError):
    """The stack still holds example values: one message naming every key to set."""

    HEADLINE = "the stack config still holds example values that cannot work on AWS; set your own"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, headline=self.HEADLINE)

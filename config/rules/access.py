"""Who reaches what: router CIDRs, admin access, the SSH key."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from config.errors import Problem, config_key
from config.settings import Settings

_OPENSSH_PUBLIC_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com"
    r"|sk-ecdsa-sha2-nistp256@openssh\.com) AAAA[A-Za-z0-9+/]+={0,3}( [^\n]*)?$"
)


def _cidr_problems(
    path: tuple[str, str], cidrs: list[str], *, world_allowed: bool, world_fix: str
) -> Iterator[Problem]:
    for index, text in enumerate(cidrs):
        key = config_key(*path, index)
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            try:
                intended = ipaddress.ip_network(text, strict=False)
            except ValueError:
                yield Problem(
                    key,
                    text,
                    "not a CIDR",
                    "write an address block, e.g. 198.51.100.0/24",
                )
            else:
                yield Problem(
                    key,
                    text,
                    "has host bits set",
                    f"write the block as {intended.with_prefixlen}",
                )
            continue
        if network.prefixlen == 0 and not world_allowed:
            yield Problem(key, text, "opens the port to the whole internet", world_fix)


def router_cidrs(s: Settings) -> Iterator[Problem]:
    if not s.router.allowed_cidrs:
        yield Problem(
            config_key("router", "allowed_cidrs"),
            [],
            "nobody could call the router",
            "list the CIDRs Metis calls from, e.g. [203.0.113.7/32]",
        )
    yield from _cidr_problems(
        ("router", "allowed_cidrs"),
        s.router.allowed_cidrs,
        world_allowed=s.router.allow_public,
        world_fix="list narrower CIDRs, or set metis-llm:router.allow_public: true to open the "
        "router to the world on purpose",
    )


def admin_access(s: Settings) -> Iterator[Problem]:
    key, cidrs = config_key("access", "admin_cidrs"), s.access.admin_cidrs
    if s.access.mode == "ssm":
        if cidrs:
            yield Problem(
                key,
                cidrs,
                "only used in ssh mode; in ssm mode no port 22 is opened",
                "remove it, or set metis-llm:access.mode: ssh",
            )
        return
    if not cidrs:
        yield Problem(
            key,
            cidrs,
            "ssh mode opens port 22 and must know to whom",
            "list your admin CIDRs, or use mode: ssm (no inbound SSH)",
        )
    yield from _cidr_problems(
        ("access", "admin_cidrs"),
        cidrs,
        world_allowed=False,
        world_fix="SSH is never opened to the world: list your admin CIDRs, or use mode: ssm",
    )


def ssh_public_key(s: Settings) -> Iterator[Problem]:
    key = s.access.ssh_public_key.strip()
    if _OPENSSH_PUBLIC_KEY.match(key):
        return
    private = "PRIVATE KEY" in key
    yield Problem(
        config_key("access", "ssh_public_key"),
        key[:24] + "...",
        "this is a PRIVATE key: never put it in stack config"
        if private
        else "not an OpenSSH public key",
        "set the one line of your .pub file: pulumi config set --path "
        '"metis-llm:access.ssh_public_key" "$(cat ~/.ssh/id_ed25519.pub)"',
    )


RULES = (router_cidrs, admin_access, ssh_public_key)

"""When a list of CIDR blocks lets in the internet: one definition for the stack config's
rules, the offline plan's warning and the policy pack (which imports this module from the
project, so it uses the standard library only).

A list is judged by the public addresses it covers once merged, not by its prefixes:
`[0.0.0.0/1, 128.0.0.0/1]` is the whole IPv4 internet as much as `0.0.0.0/0` is. It counts as
the internet when, for either IP version, it covers more public addresses than `WIDEST_BLOCK`
allows: more than a /8 of IPv4 (16.7 million addresses, the largest block ever assigned to a
single organisation) or more than a /16 of IPv6 (65,536 times a large ISP's /32). Private and
reserved ranges (RFC 1918, CGNAT, loopback, link-local, documentation, multicast, IPv6
outside 2000::/3) are not public, so listing all of them is not opening to the internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WIDEST_BLOCK = {4: 8, 6: 16}
"""Per IP version, the prefix length whose size is the most public addresses a list may
cover and still name who may connect, rather than open to everyone."""

PUBLIC_SPACE: dict[int, tuple[str, ...]] = {4: ("0.0.0.0/0",), 6: ("2000::/3",)}
"""Where public addresses lie: all of IPv4, and IPv6 global unicast (RFC 4291)."""

NOT_PUBLIC: dict[int, tuple[str, ...]] = {
    4: (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
    ),
    6: ("2001:db8::/32",),
}
"""Ranges inside `PUBLIC_SPACE` that are not reachable from the internet (IANA special-purpose
address registries, RFC 6890; 224.0.0.0/3 is multicast and the reserved 240.0.0.0/4).
The blocks of one version are disjoint."""


ADDRESS_BITS = {4: 32, 6: 128}


def parse_block(block: object) -> Network | None:
    """A CIDR block (host bits ignored), or None when the value is not one."""
    if not isinstance(block, str):
        return None
    try:
        return ipaddress.ip_network(block, strict=False)
    except ValueError:
        return None


def _networks(blocks: Iterable[object]) -> dict[int, list[Network]]:
    by_version: dict[int, list[Network]] = {4: [], 6: []}
    for network in filter(None, map(parse_block, blocks)):
        by_version[network.version].append(network)
    return by_version


def _overlap(a: Network, b: Network) -> int:
    """Addresses two CIDR blocks share: blocks either nest or are disjoint."""
    if a.subnet_of(b):  # type: ignore[arg-type]
        return a.num_addresses
    if b.subnet_of(a):  # type: ignore[arg-type]
        return b.num_addresses
    return 0


def public_addresses(network: Network) -> int:
    """How many addresses of a block are public."""
    inside = sum(_overlap(network, ipaddress.ip_network(p)) for p in PUBLIC_SPACE[network.version])
    reserved = sum(_overlap(network, ipaddress.ip_network(r)) for r in NOT_PUBLIC[network.version])
    return inside - reserved


def covered_public_addresses(blocks: Iterable[object]) -> dict[int, int]:
    """Per IP version, the public addresses the blocks cover together (overlaps counted
    once); text that is not a CIDR block is left out."""
    return {
        version: sum(public_addresses(n) for n in ipaddress.collapse_addresses(networks))  # type: ignore[arg-type]
        for version, networks in _networks(blocks).items()
    }


def opens_to_internet(blocks: Iterable[object]) -> bool:
    """Whether the blocks, taken together, let in the internet (see the module's docstring)."""
    covered = covered_public_addresses(blocks)
    return any(
        covered[version] > 2 ** (ADDRESS_BITS[version] - WIDEST_BLOCK[version])
        for version in covered
    )


def public_blocks(blocks: Iterable[object]) -> list[str]:
    """The blocks holding public addresses, as given: those that let the internet in when
    `opens_to_internet` holds."""
    return [
        block
        for block in blocks
        if isinstance(block, str)
        and (network := parse_block(block)) is not None
        and public_addresses(network) > 0
    ]


def reach(blocks: Iterable[object]) -> str:
    """In words, how much of the internet blocks that open to it let in."""
    everything = covered_public_addresses(["0.0.0.0/0", "::/0"])
    covered = covered_public_addresses(blocks)
    if any(covered[version] == everything[version] for version in covered if covered[version]):
        return "the whole internet"
    return (
        f"a large part of the internet (more public addresses than a /{WIDEST_BLOCK[4]} of "
        f"IPv4 or a /{WIDEST_BLOCK[6]} of IPv6)"
    )

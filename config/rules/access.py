"""Who reaches what: router CIDRs, admin access, the SSH key pair."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterator

from config.errors import Problem, config_key
from config.exposure import opens_to_internet, public_blocks, reach
from config.settings import Settings

_PUBLIC_KEY_LINE = re.compile(r"^(?P<type>\S+) (?P<blob>AAAA[A-Za-z0-9+/]+={0,3})( [^\n]*)?$")
EC2_KEY_TYPES = frozenset({"ssh-ed25519", "ssh-rsa"})
"""What EC2's ImportKeyPair takes ("the public key from an RSA or ED25519 key pair",
docs/reference/aws-inputs.md)."""
OTHER_KEY_TYPES = frozenset(
    {
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "ssh-dss",
    }
)
"""OpenSSH public key types EC2 refuses."""
NEW_KEY_FIX = (
    "create an ed25519 key (ssh-keygen -t ed25519) and set the one line of its .pub file: "
    'pulumi config set --path metis-llm:access.ssh_public_key "$(cat ~/.ssh/id_ed25519.pub)"'
)


def is_private_key(text: str) -> bool:
    """Whether a text holds a private key (PEM or OpenSSH format), or a piece of one."""
    return "PRIVATE KEY" in text or "-----BEGIN" in text


def _block_problem(text: str) -> tuple[str, str] | None:
    """(reason, fix) when a list item is not one CIDR block written the one way AWS and the
    rule names take it."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return "not a CIDR", "write an address block, e.g. 198.51.100.0/24"
    canonical = network.with_prefixlen
    if "%" in text:
        return "not a CIDR: AWS takes no zone index", f"write {re.sub(r'%[^/]*', '', canonical)}"
    if text == canonical:
        return None
    address, _, prefix = text.partition("/")
    if not prefix:
        return "a bare address, where AWS takes a CIDR block", f"write {canonical}"
    if not prefix.isdigit():
        return "a netmask, where AWS takes a prefix length", f"write {canonical}"
    if ipaddress.ip_address(address) != network.network_address:
        return "has host bits set", f"write the block as {canonical}"
    return (
        "not written the canonical way: another spelling of a listed block would hide a "
        "duplicate and name its rule differently",
        f"write {canonical}",
    )


def _cidr_problems(
    path: tuple[str, str], cidrs: list[str], *, world_allowed: bool, world_fix: str
) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    judged = []
    for index, text in enumerate(cidrs):
        key = config_key(*path, index)
        if (problem := _block_problem(text)) is not None:
            yield Problem(key, text, *problem)
            continue
        if text in seen:
            yield Problem(
                key,
                text,
                f"the same block as {config_key(*path, seen[text])}",
                "list each block once",
            )
            continue
        seen[text] = index
        if world_allowed:
            continue
        if opens_to_internet([text]):
            yield Problem(key, text, f"opens the port to {reach([text])}", world_fix)
        else:
            judged.append(text)
    if judged and opens_to_internet(judged):
        wide = public_blocks(judged)
        yield Problem(
            config_key(*path),
            wide,
            f"together these blocks open the port to {reach(wide)}",
            world_fix,
        )


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


def _key_type_inside(blob: str) -> str | None:
    """The key type an OpenSSH public key's data names (its first field), or None when the
    data is not readable."""
    try:
        data = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    length = int.from_bytes(data[:4], "big")
    name = data[4 : 4 + length]
    return name.decode("ascii", "replace") if len(data) >= 4 + length > 4 else None


def _public_key_problem(text: str) -> tuple[str, str] | None:
    if is_private_key(text):
        return "this is a PRIVATE key: never put it in stack config", NEW_KEY_FIX
    match = _PUBLIC_KEY_LINE.match(text)
    if match is None:
        return "not an OpenSSH public key", NEW_KEY_FIX
    key_type = match["type"]
    if key_type in OTHER_KEY_TYPES:
        return f"a {key_type} key: EC2 imports only RSA and ED25519 keys", NEW_KEY_FIX
    if key_type not in EC2_KEY_TYPES:
        return "not an OpenSSH public key", NEW_KEY_FIX
    if _key_type_inside(match["blob"]) != key_type:
        return (
            f"the key's data is damaged or is not an {key_type} key",
            "copy the one line of your .pub file again",
        )
    return None


def ssh_public_key(s: Settings) -> Iterator[Problem]:
    text = s.access.ssh_public_key.strip()
    if (problem := _public_key_problem(text)) is not None:
        yield Problem(config_key("access", "ssh_public_key"), text, *problem)


def ssh_identity_file(s: Settings) -> Iterator[Problem]:
    path = s.access.ssh_identity_file
    if path is not None and is_private_key(path):
        yield Problem(
            config_key("access", "ssh_identity_file"),
            path,
            "this is a private key itself, not the path to one: never put it in stack config",
            "set the path of the key file, e.g. ~/.ssh/id_ed25519, or leave it out and load "
            "the key into ssh-agent",
        )


def router_transport(s: Settings) -> Iterator[Problem]:
    if s.router.plain_http and s.router.domain:
        yield Problem(
            config_key("router", "plain_http"),
            True,
            "a domain's load balancer serves HTTPS only, so plain HTTP contradicts "
            "metis-llm:router.domain",
            "remove metis-llm:router.plain_http (HTTPS is the default), or remove the domain",
        )


RULES = (router_cidrs, router_transport, admin_access, ssh_public_key, ssh_identity_file)

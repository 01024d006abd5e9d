"""The resource tree of a program run, as text: each component with its children, and for
each resource the inputs a reviewer checks. Secrets are masked (see `offline.values`)."""

from __future__ import annotations

from collections.abc import Iterator

from offline.harness import ProgramRun, Registration
from offline.values import flatten

_SECURITY_GROUP_RULE = (
    "ipProtocol",
    "fromPort",
    "toPort",
    "cidrIpv4",
    "cidrIpv6",
    "referencedSecurityGroupId",
)

_INSTANCE = (
    "instanceType",
    "ami",
    "rootBlockDevice",
    "metadataOptions",
    "instanceMarketOptions",
    "associatePublicIpAddress",
    "iamInstanceProfile",
    "userData",
)

KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:ec2/instance:Instance": _INSTANCE,
    "pulumi-python:dynamic/metis-llm:SpotOrOnDemandInstance": _INSTANCE,
    "aws:ec2/eip:Eip": ("domain",),
    "aws:ec2/securityGroup:SecurityGroup": ("vpcId", "description"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _SECURITY_GROUP_RULE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _SECURITY_GROUP_RULE,
    "aws:ec2/keyPair:KeyPair": ("publicKey",),
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/instanceProfile:InstanceProfile": ("role",),
    "random:index/randomPassword:RandomPassword": ("length", "special"),
    "command:local:Command": ("create",),
    "pulumi:providers:docker": ("host",),
    "docker:index/remoteImage:RemoteImage": ("name",),
    "docker:index/container:Container": (
        "name",
        "entrypoints",
        "command",
        "networkMode",
        "gpus",
        "labels",
        "ports",
        "envs",
        "volumes",
        "shmSize",
        "uploads",
    ),
}
"""Per resource type, the inputs (and everything under them) the tree shows. A type not
listed shows every input. The plan diff always compares every input, listed or not."""

HIDDEN_KEYS = frozenset({"tags"})
"""The same on every AWS resource of a stack (project, stack, role)."""


def _under(path: str, key: str) -> bool:
    return path == key or path.startswith((f"{key}.", f"{key}["))


def _rank(resource_type: str, path: str) -> int | None:
    """Where an input goes among a resource's lines (its key's place in KEY_INPUTS), or None
    when the tree does not show it."""
    if any(part.split("[")[0] in HIDDEN_KEYS for part in path.split(".")):
        return None
    keys = KEY_INPUTS.get(resource_type)
    if keys is None:
        return 0
    return next((index for index, key in enumerate(keys) if _under(path, key)), None)


def input_lines(registration: Registration) -> list[str]:
    """`path: value` for the inputs of a resource a reviewer checks; long texts summarised."""
    ranked = [
        (rank, path, leaf)
        for path, leaf in flatten(registration.inputs).items()
        if (rank := _rank(registration.type, path)) is not None
    ]
    ranked.sort(key=lambda item: item[:2])
    return [f"{path}: {leaf.summary()}" for _, path, leaf in ranked]


def _children(run: ProgramRun) -> dict[str, list[Registration]]:
    """Registrations by parent URN, each list sorted by name: the mock engine records them
    in the order their registrations complete, which the program does not fix."""
    children: dict[str, list[Registration]] = {}
    for registration in run.registrations:
        children.setdefault(registration.parent, []).append(registration)
    return {parent: sorted(kids, key=lambda r: r.name) for parent, kids in children.items()}


def _lines(
    registration: Registration, children: dict[str, list[Registration]], head: str, body: str
) -> Iterator[str]:
    """A node's line (after `head`), its inputs and its subtree (each after `body`)."""
    yield f"{head}{registration.name}  ({registration.type})"
    kids = children.get(registration.urn, [])
    details = body + ("│   " if kids else "    ")
    for line in input_lines(registration):
        yield details + line
    for index, kid in enumerate(kids):
        last = index == len(kids) - 1
        yield from _lines(
            kid, children, body + ("└── " if last else "├── "), body + ("    " if last else "│   ")
        )


def render_tree(run: ProgramRun) -> str:
    """The registrations as a tree: roots are those whose parent (the stack) is not a
    registration itself."""
    children = _children(run)
    urns = {registration.urn for registration in run.registrations}
    roots = [r for parent, kids in children.items() if parent not in urns for r in kids]
    return "\n".join(line for root in roots for line in _lines(root, children, "", ""))

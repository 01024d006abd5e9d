"""EC2 instances: IMDSv2 only, encrypted volumes, and the tags that say whose they are."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from .props import entries, mapping, owner
from .rule import guardrail

INSTANCE = "aws:ec2/instance:Instance"
SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
SPOT_OR_ON_DEMAND = "pulumi-python:dynamic/metis-llm:SpotOrOnDemandInstance"
"""The project's spot host (components/spot.py): aws.ec2.Instance's inputs, same names."""
INSTANCES = {INSTANCE, SPOT_INSTANCE_REQUEST, SPOT_OR_ON_DEMAND}
EBS_VOLUME = "aws:ebs/volume:Volume"

OWNER_TAGS = ("project", "stack")
"""Tags every instance carries (components.tags.stack_tags): whose it is and which stack's."""


def imdsv2(args: ResourceValidationArgs) -> Iterator[str]:
    tokens = mapping(args.props.get("metadataOptions")).get("httpTokens")
    if tokens != "required":
        yield (
            f"has metadataOptions.httpTokens {tokens or 'unset'}: IMDSv1 would hand the "
            "instance's credentials to any request a process can be tricked into making"
        )


def encrypted_volumes(args: ResourceValidationArgs) -> Iterator[str]:
    props = args.props
    if args.resource_type == EBS_VOLUME:
        if props.get("encrypted") is not True:
            yield "is not encrypted"
        return
    if mapping(props.get("rootBlockDevice")).get("encrypted") is not True:
        yield "has a root volume that is not declared encrypted (rootBlockDevice.encrypted)"
    for index, device in enumerate(map(mapping, entries(props.get("ebsBlockDevices")))):
        if device.get("encrypted") is not True:
            name = device.get("deviceName") or f"ebsBlockDevices[{index}]"
            yield f"has a data volume {name} that is not encrypted"


def owner_tags(args: ResourceValidationArgs) -> Iterator[str]:
    tags = mapping(args.props.get("tags"))
    expected = owner(args.urn)
    for key in OWNER_TAGS:
        value = tags.get(key)
        if not value:
            yield f"has no {key} tag"
        elif key in expected and value != expected[key]:
            yield f"is tagged {key}={value} but belongs to {key} {expected[key]}"


REQUIRE_IMDSV2 = guardrail(
    name="instances-require-imdsv2",
    description="Every instance requires IMDSv2 (session tokens) for its metadata service.",
    resource_types=INSTANCES,
    check=imdsv2,
    fix="set metadata_options={'http_tokens': 'required'} on the instance",
)

ENCRYPTED_VOLUMES = guardrail(
    name="volumes-encrypted",
    description="Every EBS volume is encrypted: instance root and data volumes, and volumes "
    "of their own.",
    resource_types={*INSTANCES, EBS_VOLUME},
    check=encrypted_volumes,
    fix="set encrypted=True on root_block_device, on each ebs_block_devices entry and on "
    "aws.ebs.Volume resources",
)

OWNER_TAGGED = guardrail(
    name="instances-tagged",
    description=f"Every instance carries the {' and '.join(OWNER_TAGS)} tags of the stack "
    "it belongs to.",
    resource_types=INSTANCES,
    check=owner_tags,
    severity=Severity.MEDIUM,
    fix="tag the instance with components.tags.stack_tags(stack, role), i.e. "
    "project=<Pulumi project> and stack=<stack name>, in its own tags (provider default "
    "tags are not seen here)",
)

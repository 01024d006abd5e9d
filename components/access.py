"""How the hosts are administered: the SSH key pair and, in ssm mode, the SSM role."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.tags import stack_tags
from config.settings import AccessConfig
from renderers.idle_stop import publish_policy

SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
EC2_ASSUME_ROLE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass(frozen=True)
class HostAccessArgs:
    access: AccessConfig
    stack: str
    publishes_activity: bool = False
    """The idle stop's publisher runs on a host: the role may also publish its metric (in
    ssh mode the role exists for that alone)."""


class HostAccess(pulumi.ComponentResource):
    """The deployer's public key as an EC2 key pair, and an instance profile: in ssm mode
    with AmazonSSMManagedInstanceCore (what Session Manager needs), with idle stop allowed
    to publish the activity metric, and with nothing else."""

    key_name: pulumi.Output[str]
    instance_profile: pulumi.Output[str] | None
    """Name of the instance profile, None when the hosts need no role; known once its role
    carries its policies, so an instance using it waits for them too."""

    def __init__(self, name: str, args: HostAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("metis-llm:access:HostAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = stack_tags(args.stack, "access")

        key_pair = aws.ec2.KeyPair(
            f"{name}-key", public_key=args.access.ssh_public_key.strip(), tags=tags, opts=child
        )
        self.key_name = key_pair.key_name

        self.instance_profile = None
        if args.access.mode == "ssm" or args.publishes_activity:
            # Named for its first use: renaming would replace the role of deployed stacks.
            role = aws.iam.Role(
                f"{name}-ssm-role", assume_role_policy=EC2_ASSUME_ROLE, tags=tags, opts=child
            )
            policies: list[pulumi.Output[str]] = []
            if args.access.mode == "ssm":
                policies.append(
                    aws.iam.RolePolicyAttachment(
                        f"{name}-ssm-core", role=role.name, policy_arn=SSM_CORE_POLICY, opts=child
                    ).id
                )
            if args.publishes_activity:
                policies.append(
                    aws.iam.RolePolicy(
                        f"{name}-publish-activity",
                        role=role.id,
                        policy=publish_policy(),
                        opts=child,
                    ).id
                )
            profile = aws.iam.InstanceProfile(
                f"{name}-ssm-profile", role=role.name, tags=tags, opts=child
            )
            # An instance launched before the policy is attached starts an SSM agent that is
            # refused and waits 25-30 minutes: the name resolves only once it is attached.
            self.instance_profile = pulumi.Output.all(profile.name, *policies).apply(
                lambda values: values[0]
            )

        self.register_outputs(
            {"key_name": self.key_name, "instance_profile": self.instance_profile}
        )

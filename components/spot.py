"""A spot host that falls back to on-demand: a small dynamic resource that launches the
instance itself, because no EC2 or Pulumi mechanism launches on-demand only when spot
capacity is missing (docs/reference/idle-cost.md, "Spot with fallback").

`create` asks for a persistent spot instance that stops when interrupted (it keeps its disk
and, with an Elastic IP, its address) and, when EC2 refuses for lack of spot capacity or
price or quota, launches the same instance on demand. The market it got is an output; a
fallen-back host stays on demand until it is replaced. It takes the inputs of
`aws.ec2.Instance` this project uses, under the same names, so the policy pack checks it as
an instance.

The provider is pickled by reference (this module is importable from the program's
directory, where the engine starts the dynamic provider process), so the state holds no
byte code and any Python version of the project reads it.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from config.project import NAMESPACE

SPOT_OPTIONS = {
    "MarketType": "spot",
    "SpotOptions": {"SpotInstanceType": "persistent", "InstanceInterruptionBehavior": "stop"},
}
FALLBACK_CODES = frozenset(
    {
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "UnfulfillableCapacity",
        "SpotMaxPriceTooLow",
        "MaxSpotInstanceCountExceeded",
    }
)
"""EC2's refusals of a spot launch that an on-demand launch may not meet (EC2 API error
codes; aws/aws-parallelcluster-node's slurm_resources.py uses the same list to fail over)."""
UPDATABLE = frozenset({"tags", "iamInstanceProfile"})
"""Changed in place; any other input change replaces the instance (as `user_data` changes do
for the project's aws.ec2.Instance)."""
OUTPUTS = frozenset({"arn", "privateIp", "publicIp", "market", "spotInstanceRequestId"})


class SpotOrOnDemandProvider(ResourceProvider):
    """The instance's create, read, update and delete, through boto3."""

    def client(self, region: str) -> Any:
        import boto3  # a dependency of the project; imported where the provider runs

        return boto3.client("ec2", region_name=region)

    def launch_params(self, props: dict[str, Any], root_device: str) -> dict[str, Any]:
        """RunInstances parameters from the aws.ec2.Instance-shaped inputs."""
        root = props["rootBlockDevice"]
        tags = [{"Key": k, "Value": v} for k, v in sorted(props["tags"].items())]
        volume_tags = [{"Key": k, "Value": v} for k, v in sorted(root.get("tags", {}).items())]
        metadata = props["metadataOptions"]
        params: dict[str, Any] = {
            "ImageId": props["ami"],
            "InstanceType": props["instanceType"],
            "MinCount": 1,
            "MaxCount": 1,
            "KeyName": props["keyName"],
            "UserData": props["userData"],
            "NetworkInterfaces": [
                {
                    "DeviceIndex": 0,
                    "SubnetId": props["subnetId"],
                    "Groups": list(props["vpcSecurityGroupIds"]),
                    "AssociatePublicIpAddress": props["associatePublicIpAddress"],
                }
            ],
            "MetadataOptions": {
                "HttpEndpoint": metadata["httpEndpoint"],
                "HttpTokens": metadata["httpTokens"],
                "HttpPutResponseHopLimit": int(metadata["httpPutResponseHopLimit"]),
            },
            "BlockDeviceMappings": [
                {
                    "DeviceName": root_device,
                    "Ebs": {
                        "VolumeType": root["volumeType"],
                        "VolumeSize": int(root["volumeSize"]),
                        "Iops": int(root["iops"]),
                        "Throughput": int(root["throughput"]),
                        "Encrypted": root["encrypted"],
                        "DeleteOnTermination": root["deleteOnTermination"],
                    },
                }
            ],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": tags},
                {"ResourceType": "volume", "Tags": volume_tags or tags},
            ],
        }
        if props.get("iamInstanceProfile"):
            params["IamInstanceProfile"] = {"Name": props["iamInstanceProfile"]}
        return params

    def launch(self, ec2: Any, props: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
        """(the launched instance, its market, why not spot or "")."""
        from botocore.exceptions import ClientError

        (image,) = ec2.describe_images(ImageIds=[props["ami"]])["Images"]
        params = self.launch_params(props, image["RootDeviceName"])
        try:
            answer = ec2.run_instances(**params, InstanceMarketOptions=SPOT_OPTIONS)
            return answer["Instances"][0], "spot", ""
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in FALLBACK_CODES:
                raise
        answer = ec2.run_instances(**params)
        return answer["Instances"][0], "on-demand", code

    def described(self, ec2: Any, instance_id: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            found = ec2.describe_instances(InstanceIds=[instance_id])
        except ClientError as error:
            if error.response["Error"]["Code"] == "InvalidInstanceID.NotFound":
                return None
            raise
        instances = [
            {**i, "OwnerId": r["OwnerId"]} for r in found["Reservations"] for i in r["Instances"]
        ]
        return instances[0] if instances else None

    def outputs(self, instance: dict[str, Any], region: str, account: str) -> dict[str, Any]:
        return {
            "arn": f"arn:aws:ec2:{region}:{account}:instance/{instance['InstanceId']}",
            "privateIp": instance.get("PrivateIpAddress", ""),
            "publicIp": instance.get("PublicIpAddress", ""),
            "market": "spot" if instance.get("InstanceLifecycle") == "spot" else "on-demand",
            "spotInstanceRequestId": instance.get("SpotInstanceRequestId", ""),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        ec2 = self.client(props["region"])
        instance, market, reason = self.launch(ec2, props)
        instance_id = instance["InstanceId"]
        ec2.get_waiter("instance_running").wait(InstanceIds=[instance_id])
        running = self.described(ec2, instance_id) or instance
        outs = {**props, **self.outputs(running, props["region"], running.get("OwnerId", ""))}
        outs.update(market=market, fallbackReason=reason)
        return CreateResult(id_=instance_id, outs=outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """A stopped instance reads as it is (an empty public IP without an Elastic IP); a
        terminated or unknown one is gone."""
        ec2 = self.client(props["region"])
        instance = self.described(ec2, id_)
        if instance is None or instance["State"]["Name"] in ("shutting-down", "terminated"):
            return ReadResult(id_="", outs={})
        fresh = self.outputs(instance, props["region"], instance["OwnerId"])
        fresh["market"] = props.get("market", fresh["market"])
        return ReadResult(id_=id_, outs={**props, **fresh})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs = (set(olds) | set(news)) - OUTPUTS - {"fallbackReason", "__provider"}
        changed = sorted(key for key in inputs if olds.get(key) != news.get(key))
        return DiffResult(
            changes=bool(changed),
            replaces=[key for key in changed if key not in UPDATABLE],
            delete_before_replace=False,
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        ec2 = self.client(news["region"])
        old_tags, new_tags = olds.get("tags", {}), news.get("tags", {})
        gone = [{"Key": key} for key in old_tags if key not in new_tags]
        if gone:
            ec2.delete_tags(Resources=[id_], Tags=gone)
        if new_tags != old_tags:
            ec2.create_tags(
                Resources=[id_], Tags=[{"Key": k, "Value": v} for k, v in new_tags.items()]
            )
        if olds.get("iamInstanceProfile") != news.get("iamInstanceProfile"):
            self.set_profile(ec2, id_, news.get("iamInstanceProfile"))
        kept = {key: olds[key] for key in OUTPUTS | {"fallbackReason"} if key in olds}
        return UpdateResult(outs={**news, **kept})

    def set_profile(self, ec2: Any, instance_id: str, profile: str | None) -> None:
        found = ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [instance_id]}]
        )["IamInstanceProfileAssociations"]
        current = [a for a in found if a["State"] in ("associating", "associated")]
        if current and profile:
            ec2.replace_iam_instance_profile_association(
                AssociationId=current[0]["AssociationId"], IamInstanceProfile={"Name": profile}
            )
        elif current:
            ec2.disassociate_iam_instance_profile(AssociationId=current[0]["AssociationId"])
        elif profile:
            ec2.associate_iam_instance_profile(
                InstanceId=instance_id, IamInstanceProfile={"Name": profile}
            )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Cancel the persistent spot request first: otherwise it launches a new instance."""
        ec2 = self.client(props["region"])
        if props.get("spotInstanceRequestId"):
            ec2.cancel_spot_instance_requests(
                SpotInstanceRequestIds=[props["spotInstanceRequestId"]]
            )
        if self.described(ec2, id_) is None:
            return
        ec2.terminate_instances(InstanceIds=[id_])
        ec2.get_waiter("instance_terminated").wait(InstanceIds=[id_])


class SpotOrOnDemandInstance(
    pulumi.dynamic.Resource, module=NAMESPACE, name="SpotOrOnDemandInstance"
):
    """Type `pulumi-python:dynamic/metis-llm:SpotOrOnDemandInstance`."""

    arn: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    public_ip: pulumi.Output[str]
    market: pulumi.Output[str]
    """spot, or on-demand after a fallback."""

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        outputs = dict.fromkeys([*OUTPUTS, "fallbackReason"])
        super().__init__(SpotOrOnDemandProvider(), name, {**props, **outputs}, opts)
        self.private_ip = self.privateIp  # type: ignore[attr-defined]
        self.public_ip = self.publicIp  # type: ignore[attr-defined]

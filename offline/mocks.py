"""A fake AWS / Docker / command engine for the program, deterministic run to run.

Resources echo their inputs plus the fields the cloud would compute (ids, IPs, digests),
derived from the resource's name so two runs of the same stack agree, which plan diffs
rely on. Invokes answer every lookup the program makes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

GPU_AMI = "ami-0a1b2c3d4e5f60001"
CPU_AMI = "ami-0a1b2c3d4e5f60002"
DEFAULT_VPC = "vpc-0123456789abcdef0"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
ACCOUNT_ID = "123456789012"
SPOT_OR_ON_DEMAND = "pulumi-python:dynamic/metis-llm:SpotOrOnDemandInstance"
INSTANCE_TYPES = ("aws:ec2/instance:Instance", SPOT_OR_ON_DEMAND)


def _digest(text: str, length: int = 17) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _octets(text: str) -> tuple[int, int]:
    raw = hashlib.sha256(text.encode()).digest()
    return raw[0] % 200 + 1, raw[1] % 250 + 2


def private_ip(name: str) -> str:
    third, fourth = _octets(name)
    return f"10.0.{third}.{fourth}"


def public_ip(name: str) -> str:
    """From TEST-NET-3 (203.0.113.0/24): obviously not a real address."""
    return f"203.0.113.{_octets(name)[1]}"


def mock_pem(label: str, *parts: object) -> str:
    """A PEM-shaped stand-in that changes whenever what it derives from changes."""
    return f"-----BEGIN {label}-----\nmock{_digest(repr(parts), 40)}\n-----END {label}-----\n"


def _tls_computed(resource_type: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What pulumi-tls would compute: keys from the name, certificates and requests from
    their inputs (a changed name or signer gives a changed certificate, as for real)."""
    kind = resource_type.rsplit(":", 1)[-1]
    if kind == "PrivateKey":
        return {"privateKeyPem": mock_pem("EC PRIVATE KEY", name), "publicKeyPem": mock_pem(
            "PUBLIC KEY", name)}  # fmt: skip
    if kind == "CertRequest":
        return {"certRequestPem": mock_pem("CERTIFICATE REQUEST", name, sorted(inputs.items()))}
    if kind in ("SelfSignedCert", "LocallySignedCert"):
        return {"certPem": mock_pem("CERTIFICATE", name, sorted(inputs.items()))}
    return {}


def _domain_computed(resource_type: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What ACM, ELB and Route53 would compute for the domain mode."""
    if resource_type == "aws:acm/certificate:Certificate":
        domain = inputs.get("domainName", "")
        return {
            "arn": f"arn:aws:acm:us-east-1:123456789012:certificate/{_digest(name)}",
            "domainValidationOptions": [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{_digest(domain, 32)}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_digest(name, 32)}.acm-validations.aws.",
                }
            ],
        }
    if resource_type == "aws:acm/certificateValidation:CertificateValidation":
        return {"certificateArn": inputs.get("certificateArn")}
    if resource_type == "aws:lb/loadBalancer:LoadBalancer":
        return {
            "arn": f"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/{name}",
            "dnsName": f"{name}-{_digest(name, 8)}.elb.us-east-1.amazonaws.com",
            "zoneId": "Z26RNL4JYFTOTI",
        }
    if resource_type == "aws:lb/targetGroup:TargetGroup":
        return {"arn": f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}"}
    if resource_type == "aws:route53/record:Record":
        return {"fqdn": str(inputs.get("name", "")).rstrip(".")}
    return {}


def _computed(resource_type: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """What the cloud would add to a resource's inputs."""
    if resource_type.startswith("tls:"):
        return _tls_computed(resource_type, name, inputs)
    if resource_type.split(":")[1].split("/")[0] in ("acm", "lb", "route53"):
        return _domain_computed(resource_type, name, inputs)
    if resource_type in INSTANCE_TYPES:
        instance_id = _resource_id(resource_type, name)
        computed = {
            "privateIp": private_ip(name),
            "publicIp": public_ip(name),
            "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:instance/{instance_id}",
        }
        if resource_type == SPOT_OR_ON_DEMAND:
            computed |= {"market": "spot", "spotInstanceRequestId": f"sir-{_digest(name, 8)}"}
            computed["fallbackReason"] = ""
        return computed
    if resource_type == "aws:scheduler/schedule:Schedule":
        return {"arn": f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{name}"}
    if resource_type == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return {"arn": f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{name}"}
    if resource_type == "aws:ssm/parameter:Parameter":
        return {"arn": f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter{inputs.get('name')}"}
    if resource_type == "aws:ec2/eip:Eip":
        return {"publicIp": public_ip(f"eip-{name}"), "allocationId": f"eipalloc-{_digest(name)}"}
    if resource_type == "aws:ec2/keyPair:KeyPair":
        return {"keyName": f"{name}-{_digest(name, 7)}"}
    if resource_type in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
        return {"name": _iam_name(name), "arn": f"arn:aws:iam::{ACCOUNT_ID}:{name}"}
    if resource_type == "random:index/randomPassword:RandomPassword":
        return {"result": _digest(f"password-{name}", 64)[: int(inputs.get("length", 32))]}
    if resource_type == "command:local:Command":
        return {"stdout": "docker 28.0.4\nGPU 0: NVIDIA (mock)", "stderr": ""}
    if resource_type == "docker:index/remoteImage:RemoteImage":
        digest = _digest(inputs.get("name", name), 64)
        return {
            "imageId": f"sha256:{digest}",
            "repoDigest": f"{inputs.get('name')}@sha256:{digest}",
        }
    return {}


NAMED_BY_ID = ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile")
"""IAM roles and instance profiles: the resource id is their (auto-generated) name."""


def _iam_name(name: str) -> str:
    """What Pulumi's autonaming gives: the resource name and a random suffix."""
    return f"{name}-{_digest(name, 7)}"


def _resource_id(resource_type: str, name: str) -> str:
    if resource_type in NAMED_BY_ID:
        return _iam_name(name)
    prefixes = {
        "aws:ec2/instance:Instance": "i-",
        SPOT_OR_ON_DEMAND: "i-",
        "aws:ec2/securityGroup:SecurityGroup": "sg-",
        "aws:ec2/eip:Eip": "eipalloc-",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    }
    return prefixes.get(resource_type, f"{name}-") + _digest(name)


def subnet_in(zone: str) -> str:
    """The default subnet of a zone of the default VPC."""
    return f"subnet-{_digest(zone)}"


class CloudMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes like a small, predictable AWS.

    `offerings` maps an instance type to the zones offering it (AWS changes these over
    time); types not listed are offered in every zone."""

    def __init__(
        self, region: str = "us-east-1", offerings: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.region = region
        self.offerings = dict(offerings or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = {**args.inputs, **_computed(args.typ, args.name, args.inputs, self.region)}
        return _resource_id(args.typ, args.name), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        token, given = args.token, args.args
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAMOCKDEPLOYER",
                "id": ACCOUNT_ID,
            }
        if token == "aws:ssm/getParameter:getParameter":
            ami = GPU_AMI if "deeplearning" in given["name"] else CPU_AMI
            return {"name": given["name"], "value": ami, "type": "String", "id": given["name"]}
        if token == "aws:ec2/getVpc:getVpc":
            return {"id": DEFAULT_VPC, "cidrBlock": "10.0.0.0/16", "default": True}
        if token == "aws:ec2/getSubnet:getSubnet":
            return {"id": given["id"], "vpcId": DEFAULT_VPC, "availabilityZone": ZONES[0]}
        if token == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
            types = [value for f in given.get("filters", []) for value in f["values"]]
            pairs = [
                (zone, instance_type)
                for zone in ZONES
                for instance_type in types
                if zone in self.offerings.get(instance_type, ZONES)
            ]
            return {
                "id": self.region,
                "locations": [zone for zone, _ in pairs],
                "instanceTypes": [instance_type for _, instance_type in pairs],
                "locationTypes": ["availability-zone"] * len(pairs),
            }
        if token == "aws:ec2/getSubnets:getSubnets":
            zones = next(f["values"] for f in given["filters"] if f["name"] == "availability-zone")
            ids = [subnet_in(zone) for zone in zones]
            return {"id": self.region, "ids": ids}
        raise NotImplementedError(f"the mocks do not answer {token}")

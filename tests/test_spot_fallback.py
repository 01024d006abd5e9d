"""The spot host that falls back to on-demand (components/spot.py): its provider's create,
read, update and delete against moto's EC2 in server mode, with EC2's capacity refusals
scripted into botocore's own response parsing; its registration under the mocks."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError
from pulumi.dynamic.dynamic import serialize_provider

from components.spot import FALLBACK_CODES, SpotOrOnDemandProvider
from offline.harness import reveal, run_program, stack_file_config
from policy.guardrails.instances import SPOT_OR_ON_DEMAND
from tests.support import aws
from tests.support.stacks import ROOT, STACK_FILES

TAGS = {"project": "metis-llm", "stack": "dev", "role": "gpu-host", "Name": "metis-llm-dev-gpu-1"}


@pytest.fixture
def ec2(moto: str):
    aws.reset(moto)
    return aws.client("ec2", moto, attempts=1)


def provider_on(ec2) -> SpotOrOnDemandProvider:
    provider = SpotOrOnDemandProvider()
    provider.client = lambda region: ec2  # the launcher's own client, aimed at moto
    return provider


def inputs(ec2, **changes) -> dict:
    """What the Host component gives the resource (aws.ec2.Instance's inputs and names)."""
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]
    group = ec2.create_security_group(GroupName="hosts", Description="hosts", VpcId=vpc)
    return {
        "region": aws.REGION,
        "ami": aws.GPU_AMI,
        "instanceType": "g6.xlarge",
        "subnetId": subnet["SubnetId"],
        "vpcSecurityGroupIds": [group["GroupId"]],
        "associatePublicIpAddress": True,
        "keyName": ec2.create_key_pair(KeyName="deployer")["KeyName"],
        "iamInstanceProfile": None,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        },
        "rootBlockDevice": {
            "volumeType": "gp3",
            "volumeSize": 150,
            "iops": 4000,
            "throughput": 500,
            "encrypted": True,
            "deleteOnTermination": True,
            "tags": TAGS,
        },
        "userData": "#cloud-config\n",
        "tags": TAGS,
        **changes,
    }


def refuse_spot(code: str):
    """EC2 refusing a spot launch (RunInstances with InstanceMarketOptions.MarketType=spot)
    with `code`, and serving on-demand launches."""

    def handler(request, **_):
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if "InstanceMarketOptions.MarketType=spot" in body:
            return aws.ec2_error(code, f"{code} for spot g6.xlarge in us-east-1a (scripted)")
        return None

    return handler


def instance(ec2, instance_id: str) -> dict:
    (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservation["Instances"][0]


@pytest.mark.e2e
def test_with_spot_capacity_the_host_is_a_spot_instance(ec2):
    created = provider_on(ec2).create(inputs(ec2))

    launched = instance(ec2, created.id)
    assert created.outs["market"] == "spot"
    assert created.outs["fallbackReason"] == ""
    assert launched["InstanceLifecycle"] == "spot"
    assert launched["State"]["Name"] == "running"


@pytest.mark.e2e
@pytest.mark.parametrize("code", sorted(FALLBACK_CODES))
def test_a_spot_refusal_for_capacity_price_or_quota_launches_on_demand(ec2, code):
    ec2.meta.events.register("before-send.ec2.RunInstances", refuse_spot(code))

    created = provider_on(ec2).create(inputs(ec2))

    launched = instance(ec2, created.id)
    assert (created.outs["market"], created.outs["fallbackReason"]) == ("on-demand", code)
    assert "InstanceLifecycle" not in launched
    assert launched["State"]["Name"] == "running"


@pytest.mark.e2e
def test_any_other_refusal_fails_the_launch_without_a_fallback(ec2):
    ec2.meta.events.register("before-send.ec2.RunInstances", refuse_spot("InvalidParameterValue"))

    with pytest.raises(ClientError, match="InvalidParameterValue"):
        provider_on(ec2).create(inputs(ec2))

    assert ec2.describe_instances()["Reservations"] == []


@pytest.mark.e2e
def test_the_launched_instance_keeps_the_projects_guardrails(ec2):
    created = provider_on(ec2).create(inputs(ec2))

    launched = instance(ec2, created.id)
    (volume,) = ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [created.id]}]
    )["Volumes"]
    assert launched["MetadataOptions"]["HttpTokens"] == "required"
    assert launched["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert (volume["Encrypted"], volume["Size"], volume["VolumeType"]) == (True, 150, "gp3")
    assert {t["Key"]: t["Value"] for t in launched["Tags"]} == TAGS
    assert created.outs["arn"].endswith(f":instance/{created.id}")


@pytest.mark.e2e
def test_a_stopped_host_reads_as_it_is_without_its_public_ip(ec2):
    provider = provider_on(ec2)
    created = provider.create(inputs(ec2))
    ec2.stop_instances(InstanceIds=[created.id])

    read = provider.read(created.id, created.outs)

    assert read.id == created.id
    assert read.outs["publicIp"] == ""
    assert read.outs["market"] == "spot"


@pytest.mark.e2e
def test_a_refresh_of_a_stopped_host_shows_no_diff(ec2):
    """The engine diffs the refreshed state against the state's inputs (pulumi/pulumi
    v3.259.0 pkg/resource/deploy/step.go 1690-1716): only outputs changed."""
    provider = provider_on(ec2)
    launch = inputs(ec2)
    created = provider.create(launch)
    ec2.stop_instances(InstanceIds=[created.id])

    read = provider.read(created.id, created.outs)

    assert read.outs["publicIp"] != created.outs["publicIp"]
    assert provider.diff(created.id, read.outs, launch).changes is False


@pytest.mark.e2e
def test_a_terminated_host_reads_as_gone(ec2):
    provider = provider_on(ec2)
    created = provider.create(inputs(ec2))
    ec2.terminate_instances(InstanceIds=[created.id])

    assert provider.read(created.id, created.outs).id == ""


@pytest.mark.e2e
def test_delete_cancels_the_persistent_spot_request_before_it_terminates(ec2):
    """Terminating alone would leave a persistent request that launches a new instance.
    (moto launches spot instances from RunInstances without a request object, unlike AWS:
    the request here is one moto holds, recorded as AWS would return its id.)"""
    provider = provider_on(ec2)
    created = provider.create(inputs(ec2))
    (request,) = ec2.request_spot_instances(
        SpotPrice="1", LaunchSpecification={"ImageId": aws.GPU_AMI, "InstanceType": "g6.xlarge"}
    )["SpotInstanceRequests"]
    calls: list[str] = []
    ec2.meta.events.register("before-call.ec2", lambda model, **_: calls.append(model.name))

    provider.delete(
        created.id, {**created.outs, "spotInstanceRequestId": request["SpotInstanceRequestId"]}
    )

    assert calls.index("CancelSpotInstanceRequests") < calls.index("TerminateInstances")
    assert instance(ec2, created.id)["State"]["Name"] == "terminated"
    requests = ec2.describe_spot_instance_requests()["SpotInstanceRequests"]
    assert [r for r in requests if r["State"] in ("open", "active")] == []


@pytest.mark.e2e
def test_a_tag_or_profile_change_updates_the_host_in_place_anything_else_replaces_it(ec2):
    provider = provider_on(ec2)
    old = provider.create(inputs(ec2)).outs

    assert provider.diff("i", old, {**old, "tags": {**TAGS, "owner": "ml"}}).replaces == []
    assert provider.diff("i", old, {**old, "iamInstanceProfile": "p"}).replaces == []
    assert provider.diff("i", old, {**old, "userData": "#!/bin/sh\n"}).replaces == ["userData"]
    assert provider.diff("i", old, old).changes is False


@pytest.mark.e2e
def test_an_update_retags_the_instance(ec2):
    provider = provider_on(ec2)
    created = provider.create(inputs(ec2))
    tags = {**TAGS, "owner": "ml"}
    del tags["role"]

    updated = provider.update(created.id, created.outs, {**created.outs, "tags": tags})

    assert {t["Key"]: t["Value"] for t in instance(ec2, created.id)["Tags"]} == tags
    assert updated.outs["market"] == "spot"


@pytest.mark.e2e
def test_the_provider_is_stored_by_reference_and_loads_in_a_fresh_interpreter():
    """The engine starts the provider process in the program's directory; the state holds a
    reference to this module, no byte code of one Python version."""
    serialized = serialize_provider(SpotOrOnDemandProvider())
    code = (
        "import base64, dill, sys; "
        f"p = dill.loads(base64.b64decode({serialized!r})); "
        "print(type(p).__module__, type(p).__name__)"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "components.spot SpotOrOnDemandProvider"
    assert b"co_code" not in base64.b64decode(serialized)
    assert len(serialized) < 200


# Under the mocks


def spot_dev_run():
    config, secret_keys = stack_file_config(STACK_FILES["dev"])
    config["metis-llm:hosts"] = '{"gpu-1": {"instance_type": "g6.xlarge", "spot": true}}'
    return run_program(config, secret_keys=secret_keys, stack="dev")


def test_a_spot_host_is_launched_by_the_fallback_resource_with_the_instances_inputs():
    run = spot_dev_run()

    (host,) = run.of_type(SPOT_OR_ON_DEMAND)
    launch = reveal(host.inputs)
    assert run.of_type("aws:ec2/instance:Instance") == []
    assert launch["metadataOptions"]["httpTokens"] == "required"
    assert launch["rootBlockDevice"]["encrypted"] is True
    assert launch["tags"]["stack"] == "dev"
    assert launch["region"] == "us-east-1"
    assert sorted(host.ignore_changes) == ["ami", "associatePublicIpAddress", "subnetId"]


def test_the_rest_of_the_stack_follows_the_spot_hosts_instance_id_and_addresses():
    run = spot_dev_run()
    (host,) = run.of_type(SPOT_OR_ON_DEMAND)

    assert run.outputs["hosts"].value["gpu-1"]["instance_id"] == host.resource_id
    assert run.outputs["hosts"].value["gpu-1"]["market"] == "spot"
    (policy,) = [r for r in run.of_type("aws:iam/rolePolicy:RolePolicy") if "start-stop" in r.name]
    assert host.outputs["arn"] in policy.inputs["policy"]


@pytest.mark.e2e
def test_the_deployer_policy_lists_every_call_the_provider_makes(ec2, moto):
    listed = json.loads((ROOT / "docs" / "iam" / "actions-by-resource.json").read_text())
    actions = set(listed["resources"][SPOT_OR_ON_DEMAND]["actions"])
    iam = aws.client("iam", moto)
    iam.create_instance_profile(InstanceProfileName="metis-llm-access-ssm-profile")
    launch = inputs(ec2)
    calls: set[str] = set()
    ec2.meta.events.register("before-call.ec2", lambda model, **_: calls.add(f"ec2:{model.name}"))
    ec2.meta.events.register("before-send.ec2.RunInstances", refuse_spot("SpotMaxPriceTooLow"))
    provider = provider_on(ec2)

    created = provider.create(launch)
    profiled = {**created.outs, "iamInstanceProfile": "metis-llm-access-ssm-profile"}
    updated = provider.update(created.id, created.outs, {**profiled, "tags": {"Name": "x"}})
    provider.read(created.id, updated.outs)
    (request,) = ec2.request_spot_instances(
        SpotPrice="1", LaunchSpecification={"ImageId": aws.GPU_AMI, "InstanceType": "g6.xlarge"}
    )["SpotInstanceRequests"]
    calls.discard("ec2:RequestSpotInstances")  # the test's own call
    provider.delete(
        created.id, {**updated.outs, "spotInstanceRequestId": request["SpotInstanceRequestId"]}
    )

    assert calls - actions == set()

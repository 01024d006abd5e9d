"""Host: a locked-down instance, a readiness check, and a Docker provider that waits for it."""

import json
import shlex

from components.spot import SPOT_OPTIONS
from policy.guardrails.instances import SPOT_OR_ON_DEMAND
from tests.component_cases import build, export, host_for, inputs
from tests.config_cases import valid, with_changes

INSTANCE = "aws:ec2/instance:Instance"


def built(settings, host="gpu-1", **overrides):
    return build(lambda: host_for(settings, host, **overrides))


def instance_inputs(settings, host="gpu-1", **overrides) -> dict:
    (instance,) = built(settings, host, **overrides).of_type(INSTANCE)
    return inputs(instance)


def test_instance_requires_imdsv2_and_keeps_containers_from_its_credentials(minimal_raw):
    options = instance_inputs(valid(minimal_raw))["metadataOptions"]
    assert options["httpTokens"] == "required"
    assert options["httpPutResponseHopLimit"] == 1


def test_root_volume_is_encrypted_gp3_of_the_configured_size_with_throughput(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"disk_gib": 300}})
    volume = instance_inputs(valid(raw))["rootBlockDevice"]
    assert volume["encrypted"] is True
    assert (volume["volumeType"], volume["volumeSize"], volume["throughput"]) == ("gp3", 300, 500)


def test_gpu_host_boots_the_deep_learning_gpu_ami(minimal_raw):
    assert instance_inputs(valid(minimal_raw))["ami"] == "ami-0a1b2c3d4e5f60001"


def test_cpu_host_boots_plain_ubuntu(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": {}, "edge": {"instance_type": "t3.medium", "disk_gib": 30}}
    )
    raw["router"]["host"] = "edge"
    assert instance_inputs(valid(raw), "edge")["ami"] == "ami-0a1b2c3d4e5f60002"


def test_a_newer_ami_does_not_replace_the_host(minimal_raw):
    (instance,) = built(valid(minimal_raw)).of_type(INSTANCE)
    assert "ami" in instance.ignore_changes


def test_a_subnet_chosen_anew_from_aws_offerings_does_not_move_the_host(minimal_raw):
    (instance,) = built(valid(minimal_raw)).of_type(INSTANCE)
    assert "subnetId" in instance.ignore_changes


def test_a_subnet_named_in_the_config_moves_the_host_when_it_changes(minimal_raw):
    (instance,) = built(valid(minimal_raw), placement_pinned=True).of_type(INSTANCE)
    assert "subnetId" not in instance.ignore_changes


def test_spot_is_a_persistent_request_that_stops_on_interruption():
    assert SPOT_OPTIONS == {
        "MarketType": "spot",
        "SpotOptions": {"SpotInstanceType": "persistent", "InstanceInterruptionBehavior": "stop"},
    }


def test_a_spot_host_is_launched_by_the_resource_that_falls_back_to_on_demand(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"spot": True}})
    run = built(valid(raw))

    assert run.of_type(INSTANCE) == []
    (host,) = run.of_type(SPOT_OR_ON_DEMAND)
    assert inputs(host)["instanceType"] == "g6e.xlarge"


def test_on_demand_hosts_have_no_market_options(minimal_raw):
    assert "instanceMarketOptions" not in instance_inputs(valid(minimal_raw))


def test_instance_is_tagged_with_project_stack_and_role(minimal_raw):
    tags = instance_inputs(valid(minimal_raw))["tags"]
    assert (tags["project"], tags["stack"], tags["role"]) == ("metis-llm", "test", "gpu-host")


def test_user_data_is_the_bootstrap_of_the_hosts_role(minimal_raw):
    user_data = instance_inputs(valid(minimal_raw))["userData"]
    assert "nvidia-ctk --version" in user_data
    assert instance_inputs(valid(minimal_raw))["userDataReplaceOnChange"] is True


def test_instance_uses_the_given_network_key_and_profile(minimal_raw):
    instance = instance_inputs(valid(minimal_raw))
    assert instance["subnetId"] == "subnet-0123456789abcdef0"
    assert instance["vpcSecurityGroupIds"] == ["sg-0123456789abcdef0"]
    assert (instance["keyName"], instance["iamInstanceProfile"]) == ("deployer", "ssm-profile")


def test_a_stable_address_is_an_elastic_ip_on_the_instance(minimal_raw):
    run = built(valid(minimal_raw), stable_address=True)
    (address,) = run.of_type("aws:ec2/eip:Eip")
    (instance,) = run.of_type(INSTANCE)
    assert address.inputs["instance"].startswith("i-")
    assert address.dependencies == [instance.urn]


def test_other_hosts_get_no_elastic_ip(minimal_raw):
    assert built(valid(minimal_raw)).of_type("aws:ec2/eip:Eip") == []


def test_readiness_checks_the_host_through_session_manager(minimal_raw):
    (ready,) = built(valid(minimal_raw)).of_type("command:local:Command")
    script = ready.inputs["create"]
    assert "ProxyCommand=aws ssm start-session" in script
    assert "--region eu-west-1" in script
    assert "nvidia-smi -L" in script


def test_readiness_and_the_docker_provider_key_the_host_to_the_instance(minimal_raw):
    run = built(valid(minimal_raw))
    (instance,) = run.of_type(INSTANCE)
    (ready,) = run.of_type("command:local:Command")
    (provider,) = run.of_type("pulumi:providers:docker")
    alias = f"HostKeyAlias={instance.resource_id}"
    assert alias in ready.inputs["create"]
    assert alias in json.loads(provider.inputs["sshOpts"])


def test_the_hosts_ssh_argv_is_what_the_readiness_check_runs(minimal_raw):
    def program():
        host = host_for(valid(minimal_raw))
        export("argv", host.ssh_argv)

    run = build(program)
    (ready,) = run.of_type("command:local:Command")
    argv = run.outputs["argv"].value
    assert argv[0] == "ssh"
    assert argv[-1].startswith("ubuntu@i-")
    assert f"on_host() {{ {shlex.join(argv)} " in ready.inputs["create"]


def test_docker_provider_reaches_the_instance_over_ssh(minimal_raw):
    run = built(valid(minimal_raw))
    (provider,) = run.of_type("pulumi:providers:docker")
    (instance,) = run.of_type(INSTANCE)
    assert provider.inputs["host"] == f"ssh://ubuntu@{instance.resource_id}"
    assert "ProxyCommand=" in " ".join(json.loads(provider.inputs["sshOpts"]))


def test_docker_provider_waits_for_the_readiness_check(minimal_raw):
    run = built(valid(minimal_raw))
    (provider,) = run.of_type("pulumi:providers:docker")
    (ready,) = run.of_type("command:local:Command")
    assert ready.urn in provider.dependencies

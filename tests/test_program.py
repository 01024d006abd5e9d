"""The whole program, per stack file, under mocks: resources registered and stack outputs."""

import json
import re

import pulumi
import pytest
import yaml

from components.backend import LlmBackend
from config.services import SERVICES
from offline.harness import reveal, run_program, stack_file_config
from policy.guardrails.pinning import is_pinned
from renderers.idle_stop import PUBLISHER_CONTAINER
from tests.component_cases import build
from tests.config_cases import valid
from tests.support.stacks import STACK_FILES, stack_raw_config, stack_run

OUTPUTS = {
    "router_url", "api_key", "metis_config", "litellm_config", "chat_model", "embedding_model",
    "embed_dim", "hosts", "hourly_cost_usd", "monthly_cost_usd", "router_ca_certificate",
    "grafana_admin_password",
}  # fmt: skip
WORLD = {"0.0.0.0/0", "::/0"}


def with_stack_changes(stack: str, **sections) -> dict[str, str]:
    """A stack file's engine config with some `metis-llm:` sections changed."""
    config, _ = stack_file_config(STACK_FILES[stack])
    for section, values in sections.items():
        current = json.loads(config.get(f"metis-llm:{section}", "{}"))
        config[f"metis-llm:{section}"] = json.dumps({**current, **values})
    return config


def test_every_output_is_exported(run):
    assert set(run.outputs) == OUTPUTS


def test_only_the_api_key_and_grafanas_password_are_secret(run):
    assert {name for name, output in run.outputs.items() if output.secret} == {
        "api_key",
        "grafana_admin_password",
    }


def test_router_url_is_https_at_the_router_hosts_public_address_and_port(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    router_host = run.outputs["hosts"].value[settings.router.host]
    assert (
        run.outputs["router_url"].value
        == f"https://{router_host['public_ip']}:{settings.router.port}/v1"
    )


def test_router_ca_certificate_is_the_stacks_ca_and_no_secret(run):
    (ca,) = run.of_type("tls:index/selfSignedCert:SelfSignedCert")
    output = run.outputs["router_ca_certificate"]
    assert output.value.startswith("-----BEGIN CERTIFICATE-----")
    assert not output.secret
    assert ca.inputs["isCaCertificate"] is True


def test_the_server_certificate_covers_the_elastic_ip_and_its_public_dns_name(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    ip = run.outputs["hosts"].value[settings.router.host]["public_ip"]
    (request,) = run.of_type("tls:index/certRequest:CertRequest")
    assert request.inputs["ipAddresses"] == [ip]
    assert request.inputs["dnsNames"] == [f"ec2-{ip.replace('.', '-')}.compute-1.amazonaws.com"]


def test_metis_config_tells_how_to_trust_the_stacks_ca(run):
    text = run.outputs["metis_config"].value
    assert "pulumi stack output router_ca_certificate > metis-llm-ca.pem" in text
    assert 'export SSL_CERT_FILE="$PWD/metis-llm-ca-bundle.pem"' in text


def test_api_key_is_a_litellm_master_key(run):
    assert re.fullmatch(r"sk-[A-Za-z0-9]{48}", run.outputs["api_key"].value)


def test_metis_config_points_at_the_router_url(run):
    metis = yaml.safe_load(run.outputs["metis_config"].value)
    url = run.outputs["router_url"].value
    assert metis["llm_provider"]["base_url"] == metis["embedding_provider"]["base_url"] == url


def test_metis_config_embed_dim_matches_the_embed_dim_output(run):
    metis = yaml.safe_load(run.outputs["metis_config"].value)
    assert metis["metis_engine"]["embed_dim"] == run.outputs["embed_dim"].value


def test_model_outputs_are_the_served_names(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    assert run.outputs["chat_model"].value == settings.chat.served_name
    assert run.outputs["embedding_model"].value == settings.embedding.served_name
    assert run.outputs["embed_dim"].value == settings.embedding.dimension


def test_litellm_config_routes_to_every_replicas_private_ip(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    hosts = run.outputs["hosts"].value
    bases = [
        e["litellm_params"]["api_base"]
        for e in yaml.safe_load(run.outputs["litellm_config"].value)["model_list"]
    ]
    expected = [
        f"http://{hosts[host]['private_ip']}:{SERVICES[key].port}/v1"
        for key, service in settings.services.items()
        for host in service.hosts
    ]
    assert bases == expected


def test_no_secret_value_is_in_the_rendered_configs(run):
    keys = [run.outputs["api_key"].value, *backend_keys(run)]
    for name in ("metis_config", "litellm_config"):
        assert not any(key in run.outputs[name].value for key in keys)


def backend_keys(run) -> list[str]:
    return [
        env.split("=", 1)[1]
        for container in run.of_type("docker:index/container:Container")
        for env in reveal(container.inputs.get("envs", []))
        if env.startswith("VLLM_API_KEY=")
    ]


def test_hosts_output_describes_every_host(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    hosts = run.outputs["hosts"].value
    assert set(hosts) == set(settings.hosts)
    for name, host in hosts.items():
        assert host["instance_id"].startswith("i-")
        assert host["instance_type"] == settings.hosts[name].instance_type
        assert host["private_ip"].startswith("10.")


def test_hourly_cost_is_exported(run, stack_name):
    assert run.outputs["hourly_cost_usd"].value == {"dev": 0.80, "prod": 21.96}[stack_name]


def test_monthly_cost_is_exported_with_and_without_the_schedule(run, stack_name):
    hourly = {"dev": 0.80, "prod": 21.96}[stack_name]

    assert run.outputs["monthly_cost_usd"].value == {
        "always_on": round(hourly * 730, 2),
        "scheduled": round(hourly * 65 * 730 / 168, 2),
        "scheduled_hours_per_week": 65.0,
    }


def test_one_vllm_container_per_replica_one_router_and_one_activity_publisher(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    names = [c.inputs["name"] for c in run.of_type("docker:index/container:Container")]
    replicas = len(settings.chat.hosts) + len(settings.embedding.hosts)
    assert len([name for name in names if name.startswith("vllm-")]) == replicas
    assert names.count("litellm") == 1
    assert names.count(PUBLISHER_CONTAINER) == 1


def test_monitoring_runs_prometheus_and_grafana_once_and_exporters_on_every_host(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    names = [c.inputs["name"] for c in run.of_type("docker:index/container:Container")]
    gpu_hosts = [h for h in settings.hosts if settings.instance(h).has_gpu]
    assert (names.count("prometheus"), names.count("grafana")) == (1, 1)
    assert names.count("node-exporter") == len(settings.hosts)
    assert names.count("dcgm-exporter") == len(gpu_hosts)


def test_without_monitoring_no_monitoring_resource_and_no_password(stack_name):
    config, secret_keys = stack_file_config(STACK_FILES[stack_name])
    config["metis-llm:monitoring"] = json.dumps({"enabled": False})
    run = run_program(config, secret_keys=secret_keys, stack=stack_name)
    names = {c.inputs["name"] for c in run.of_type("docker:index/container:Container")}
    assert not names & {"prometheus", "grafana", "node-exporter", "dcgm-exporter"}
    assert "grafana_admin_password" not in run.outputs


def test_no_ingress_is_open_to_the_world(run):
    rules = run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rules
    assert not [r for r in rules if {r.inputs.get("cidrIpv4"), r.inputs.get("cidrIpv6")} & WORLD]


def test_a_public_router_opens_only_the_router_port_to_the_world():
    config = with_stack_changes(
        "dev", router={"allowed_cidrs": ["0.0.0.0/0", "::/0"], "allow_public": True}
    )
    rules = run_program(config).of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    world = [r for r in rules if {r.inputs.get("cidrIpv4"), r.inputs.get("cidrIpv6")} & WORLD]
    assert len(world) == 2
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in world} == {(8888, 8888)}


def test_no_vllm_port_is_published_on_all_interfaces(run):
    for container in run.of_type("docker:index/container:Container"):
        if container.inputs["name"].startswith("vllm-"):
            assert all(
                port.get("ip", "0.0.0.0") not in ("", "0.0.0.0")
                for port in container.inputs["ports"]
            )


def test_every_image_is_pinned(run):
    for image in run.of_type("docker:index/remoteImage:RemoteImage"):
        assert is_pinned(image.inputs["name"])
    for container in run.of_type("docker:index/container:Container"):
        assert container.inputs["image"].startswith("sha256:")


def test_every_instance_requires_imdsv2_and_encrypts_its_disk(run):
    for instance in run.of_type("aws:ec2/instance:Instance"):
        assert instance.inputs["metadataOptions"]["httpTokens"] == "required"
        assert instance.inputs["rootBlockDevice"]["encrypted"] is True


def test_prod_router_runs_on_the_cpu_host_with_the_plain_ubuntu_ami():
    run = stack_run("prod")
    instance = run.named("metis-llm-router-instance")
    assert instance.inputs["instanceType"] == "c7i.xlarge"
    assert "docker.io" in instance.inputs["userData"]


def test_components_have_project_type_tokens_and_children_are_parented(run):
    components = [r for r in run.registrations if not r.custom]
    assert all(re.fullmatch(r"metis-llm:[a-z]+:[A-Z][A-Za-z]+", c.type) for c in components)
    component_urns = {c.urn for c in components}
    for resource in run.registrations:
        if resource.custom:
            assert resource.parent in component_urns, resource.name


def test_no_urn_is_registered_twice(run):
    urns = [r.urn for r in run.registrations]
    assert len(urns) == len(set(urns))


def test_two_backends_in_one_program_do_not_collide(dev_raw):
    settings = valid(dev_raw)
    run = build(lambda: [LlmBackend(name, settings, stack="test") for name in ("blue", "green")])
    urns = [r.urn for r in run.registrations]
    assert len(urns) == len(set(urns))


def test_user_data_carries_no_per_model_setting(run, stack_name):
    settings = valid(stack_raw_config(stack_name))
    for instance in run.of_type("aws:ec2/instance:Instance"):
        user_data = instance.inputs["userData"]
        for value in (settings.chat.model, settings.embedding.model, "vllm/vllm-openai", "8000"):
            assert value not in user_data


def test_changing_the_model_replaces_containers_but_no_instance():
    before = stack_run("dev")
    after = run_program(
        with_stack_changes("dev", chat={"model": "Qwen/Qwen3-8B", "max_model_len": 8192})
    )

    def inputs_by_name(run, resource_type):
        return {r.name: r.inputs for r in run.of_type(resource_type)}

    instance = "aws:ec2/instance:Instance"
    assert inputs_by_name(after, instance) == inputs_by_name(before, instance)
    container = "docker:index/container:Container"
    changed = {
        n
        for n, i in inputs_by_name(after, container).items()
        if i != inputs_by_name(before, container)[n]
    }
    assert changed == {"metis-llm-chat-gpu-1-container", "metis-llm-router-container"}


def test_an_hf_token_reaches_the_vllm_containers_only_as_a_secret():
    config = {**stack_file_config(STACK_FILES["dev"])[0], "metis-llm:hf_token": "hf_sensitive"}
    run = run_program(config, secret_keys=["metis-llm:hf_token"])
    containers = [
        c
        for c in run.of_type("docker:index/container:Container")
        if c.inputs["name"].startswith("vllm-")
    ]
    for container in containers:
        assert "HF_TOKEN=hf_sensitive" in reveal(container.inputs["envs"])
        assert container.inputs["envs"]["value"]  # still wrapped: a secret
    assert "hf_sensitive" not in json.dumps(
        [r.inputs for r in run.of_type("aws:ec2/instance:Instance")]
    )


def test_invalid_config_stops_the_program_with_one_message_before_any_resource():
    config = with_stack_changes("dev", chat={"tensor_parallel_size": 3})
    with pytest.raises(pulumi.RunError, match=r"metis-llm:chat.tensor_parallel_size = 3") as caught:
        run_program(config)
    assert "Traceback" not in str(caught.value)


DOMAIN = {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "name": "llm.example.com"}


@pytest.fixture(scope="module")
def domain_run():
    return run_program(with_stack_changes("dev", router={"domain": DOMAIN}))


def test_domain_mode_router_url_is_the_name_over_https(domain_run):
    assert domain_run.outputs["router_url"].value == "https://llm.example.com/v1"


def test_domain_mode_needs_no_ca_from_clients(domain_run):
    assert domain_run.outputs["router_ca_certificate"].value == ""
    assert "public (ACM) certificate" in domain_run.outputs["metis_config"].value


def test_domain_mode_validates_an_acm_certificate_through_the_zone(domain_run):
    (certificate,) = domain_run.of_type("aws:acm/certificate:Certificate")
    (validation,) = domain_run.of_type("aws:acm/certificateValidation:CertificateValidation")
    records = domain_run.of_type("aws:route53/record:Record")
    assert certificate.inputs["domainName"] == "llm.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    assert {r.inputs["zoneId"] for r in records} == {DOMAIN["hosted_zone_id"]}
    (validation_record,) = [r for r in records if r.inputs["type"] == "CNAME"]
    assert validation.inputs["validationRecordFqdns"] == [
        validation_record.inputs["name"].rstrip(".")
    ]


def test_domain_mode_listens_with_tls_on_443_with_a_tls13_policy(domain_run):
    (listener,) = domain_run.of_type("aws:lb/listener:Listener")
    (balancer,) = domain_run.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (443, "TLS")
    assert listener.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listener.inputs["certificateArn"].startswith("arn:aws:acm:")
    assert balancer.inputs["loadBalancerType"] == "network"
    assert len(balancer.inputs["securityGroups"]) == 1


def test_domain_mode_forwards_over_tls_to_the_router_instance(domain_run):
    (targets,) = domain_run.of_type("aws:lb/targetGroup:TargetGroup")
    (attachment,) = domain_run.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    (router_instance,) = [
        r for r in domain_run.of_type("aws:ec2/instance:Instance") if "gpu-1" in r.name
    ]
    assert (targets.inputs["protocol"], targets.inputs["port"]) == ("TLS", 8888)
    assert targets.inputs["healthCheck"]["path"] == "/health/liveliness"
    assert attachment.inputs["targetId"] == router_instance.resource_id


def test_domain_mode_aliases_the_name_to_the_load_balancer(domain_run):
    (alias,) = [
        r for r in domain_run.of_type("aws:route53/record:Record") if r.inputs["type"] == "A"
    ]
    assert alias.inputs["name"] == "llm.example.com"
    assert alias.inputs["aliases"][0]["name"].endswith(".elb.us-east-1.amazonaws.com")


def test_domain_mode_lets_the_allowed_cidrs_reach_only_the_load_balancer(domain_run):
    rules = {
        r.name: r.inputs
        for r in domain_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    }
    https = [i for i in rules.values() if i["fromPort"] == 443]
    router = [i for i in rules.values() if i["fromPort"] == 8888]
    assert {i["cidrIpv4"] for i in https} == set(
        json.loads(with_stack_changes("dev")["metis-llm:router"])["allowed_cidrs"]
    )
    assert [set(i) & {"cidrIpv4", "cidrIpv6"} for i in router] == [set()]
    assert router[0]["referencedSecurityGroupId"].startswith("sg-")


@pytest.fixture(scope="module")
def plain_http_run():
    return run_program(with_stack_changes("dev", router={"plain_http": True}))


def test_plain_http_is_served_only_on_request(plain_http_run):
    run = plain_http_run
    assert run.outputs["router_url"].value.startswith("http://")
    assert run.outputs["router_ca_certificate"].value == ""
    assert run.of_type("tls:index/privateKey:PrivateKey") == []
    assert "WARNING: plain HTTP" in run.outputs["metis_config"].value


def test_prometheus_gets_no_ca_for_a_plain_http_router(plain_http_run):
    (prometheus,) = [
        c
        for c in plain_http_run.of_type("docker:index/container:Container")
        if c.inputs["name"] == "prometheus"
    ]
    files = {upload["file"] for upload in reveal(prometheus.inputs["uploads"])}
    assert "/etc/prometheus/router-key" in files
    assert "/etc/prometheus/router-ca.pem" not in files

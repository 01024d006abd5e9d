"""vLLM servers, the router and the keys, each built on its own under the mocks."""

import pulumi
import yaml

from components.keys import ApiKeys
from components.router import Router, RouterArgs
from components.router_tls import RouterTls, RouterTlsArgs
from components.vllm_server import VllmServer, VllmServerArgs
from offline.harness import is_secret
from offline.mocks import mock_pem
from renderers.certificates import server_names
from renderers.vllm import START_AFTER_ENTRYPOINT, vllm_server
from tests.component_cases import build, host_for, inputs
from tests.config_cases import valid, with_changes
from tests.support.stacks import stack_run

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"


def vllm_run(settings, service="chat", hf_token=None):
    def program():
        host = host_for(settings)
        spec = vllm_server(settings, service)
        VllmServer(
            "srv",
            VllmServerArgs(spec=spec, host=host, backend_key="backend-key", hf_token=hf_token),
        )

    return build(program)


def vllm_container(settings, **options):
    run = vllm_run(settings, **options)
    (container,) = run.of_type(CONTAINER)
    return run, container


def test_vllm_container_mounts_all_gpus(minimal_raw):
    _, container = vllm_container(valid(minimal_raw))
    assert container.inputs["gpus"] == "all"


def test_vllm_port_is_published_on_the_hosts_private_ip_only(minimal_raw):
    run, container = vllm_container(valid(minimal_raw))
    (instance,) = run.of_type("aws:ec2/instance:Instance")
    (port,) = container.inputs["ports"]
    assert port["ip"] not in ("", "0.0.0.0")
    assert port["ip"].startswith("10.")
    assert (port["internal"], port["external"]) == (8000, 8000)
    assert instance.urn in container.dependencies


def test_vllm_container_labels_its_service_gpus_and_instance_in_the_clear(minimal_raw):
    run, container = vllm_container(valid(minimal_raw), service="embedding")
    (instance,) = run.of_type("aws:ec2/instance:Instance")
    assert container.inputs["labels"] == [
        {"label": "metis-llm.service", "value": "embedding"},
        {"label": "metis-llm.gpus", "value": "0"},
        {"label": "metis-llm.instance", "value": instance.resource_id},
    ]


def test_a_replaced_host_pulls_its_image_again(minimal_raw):
    run, _ = vllm_container(valid(minimal_raw))
    (instance,) = run.of_type("aws:ec2/instance:Instance")
    (image,) = run.of_type(IMAGE)
    assert image.inputs["triggers"] == {"instance": instance.resource_id}


def test_vllm_keys_are_in_a_secret_environment(minimal_raw):
    _, container = vllm_container(valid(minimal_raw), hf_token=pulumi.Output.secret("hf_abc"))
    assert is_secret(container.inputs["envs"])
    assert {"VLLM_API_KEY=backend-key", "HF_TOKEN=hf_abc"} <= set(inputs(container)["envs"])


def test_without_a_token_no_hf_token_is_set(minimal_raw):
    _, container = vllm_container(valid(minimal_raw))
    assert not any(env.startswith("HF_TOKEN=") for env in inputs(container)["envs"])


def test_vllm_container_runs_the_rendered_command(minimal_raw):
    settings = valid(minimal_raw)
    _, container = vllm_container(settings, service="embedding")
    assert container.inputs["command"] == vllm_server(settings, "embedding").command


def test_vllm_health_is_checked_on_health_with_a_long_start_period(minimal_raw):
    _, container = vllm_container(valid(minimal_raw))
    check = container.inputs["healthcheck"]
    assert "http://127.0.0.1:8000/health" in check["tests"][-1]
    assert check["startPeriod"] == "20m0s"
    assert (container.inputs["wait"], container.inputs["waitTimeout"]) == (True, 3600)


def test_vllm_create_and_update_may_last_longer_than_the_health_wait(minimal_raw):
    _, container = vllm_container(valid(minimal_raw))
    assert container.custom_timeouts == {"create": "70m", "update": "70m"}
    assert container.inputs["waitTimeout"] < 70 * 60


def test_the_image_pull_may_last_longer_than_the_providers_default(minimal_raw):
    run, _ = vllm_container(valid(minimal_raw))
    (image,) = run.of_type(IMAGE)
    assert image.custom_timeouts == {"create": "40m", "update": "40m"}


def test_a_health_check_edit_replaces_the_vllm_container(minimal_raw):
    _, container = vllm_container(valid(minimal_raw))
    assert container.replace_on_changes == ["healthcheck"]


def test_vllm_restarts_unless_stopped_and_caches_weights_on_the_host(minimal_raw):
    _, container = vllm_container(valid(minimal_raw))
    assert container.inputs["restart"] == "unless-stopped"
    assert container.inputs["volumes"] == [
        {"hostPath": "/var/lib/metis-llm/hf-cache", "containerPath": "/root/.cache/huggingface"}
    ]


def test_vllm_runs_the_pinned_image_kept_on_the_host(minimal_raw):
    run, container = vllm_container(valid(minimal_raw))
    (image,) = run.of_type(IMAGE)
    assert image.inputs["name"] == "vllm/vllm-openai:v0.32.0"
    assert image.inputs["keepLocally"] is True
    assert container.inputs["image"].startswith("sha256:")


def test_vllm_resources_use_the_hosts_docker_provider(minimal_raw):
    run, container = vllm_container(valid(minimal_raw))
    (provider,) = run.of_type("pulumi:providers:docker")
    (image,) = run.of_type(IMAGE)
    assert container.provider.startswith(provider.urn)
    assert image.provider.startswith(provider.urn)


def router_run(settings):
    def program():
        host = host_for(settings, stable_address=True)
        backend = pulumi.CustomResource("test:index:Backend", "backend-stand-in")
        tls = None
        if not settings.router.plain_http:
            names = host.public_ip.apply(lambda ip: server_names(ip, "eu-west-1"))
            tls = RouterTls("tls", RouterTlsArgs(stack="test", names=names))
        router = Router(
            "rt",
            RouterArgs(
                settings=settings,
                host=host,
                private_ips={"gpu-1": host.private_ip},
                router_key=pulumi.Output.secret("sk-router"),
                backend_key=pulumi.Output.secret("backend"),
                backends=[backend],
                tls=tls,
            ),
        )
        pulumi.export("url", router.url)
        pulumi.export("config", router.config_text)
        if tls:
            pulumi.export("ca", tls.ca_cert_pem)
            pulumi.export("cert", tls.cert_pem)

    return build(program)


def test_router_uploads_the_rendered_config_with_the_backends_private_ips(minimal_raw):
    run = router_run(valid(minimal_raw))
    (container,) = run.of_type(CONTAINER)
    upload = inputs(container)["uploads"][0]
    assert upload["file"] == "/app/config.yaml"
    config = yaml.safe_load(upload["content"])
    assert config["model_list"][0]["litellm_params"]["api_base"].startswith("http://10.")
    assert upload["content"] == run.outputs["config"].value


def test_router_gets_both_keys_by_secret_environment(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    assert is_secret(container.inputs["envs"])
    assert {
        "LITELLM_MASTER_KEY=sk-router",
        "VLLM_BACKEND_KEY=backend",
        "LITELLM_LOCAL_MODEL_COST_MAP=True",
    } <= set(inputs(container)["envs"])


def test_router_port_is_published_for_the_security_group_to_filter(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    assert container.inputs["ports"] == [{"internal": 8888, "external": 8888}]


def test_router_is_created_after_its_backends(minimal_raw):
    run = router_run(valid(minimal_raw))
    (container,) = run.of_type(CONTAINER)
    assert run.named("backend-stand-in").urn in container.dependencies


def test_router_health_is_the_unauthenticated_liveliness_route(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    assert "/health/liveliness" in container.inputs["healthcheck"]["tests"][-1]


def test_the_router_container_has_the_same_timeouts_and_replacement_rule(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    assert container.custom_timeouts == {"create": "15m", "update": "15m"}
    assert container.replace_on_changes == ["healthcheck"]
    assert container.inputs["labels"][0]["label"] == "metis-llm.instance"


def test_router_url_is_https_at_the_stable_public_address(minimal_raw):
    run = router_run(valid(minimal_raw))
    (address,) = run.of_type("aws:ec2/eip:Eip")
    assert run.outputs["url"].value.startswith("https://203.0.113.")
    assert run.outputs["url"].value.endswith(":8888/v1")
    assert address.inputs["domain"] == "vpc"


def tls_uploads_of(run):
    (container,) = run.of_type(CONTAINER)
    return {upload["file"]: upload["content"] for upload in inputs(container)["uploads"][1:]}


def test_router_gets_the_ca_its_certificate_and_key_as_uploaded_files(minimal_raw):
    run = router_run(valid(minimal_raw))
    assert tls_uploads_of(run) == {
        "/app/router-ca.pem": run.outputs["ca"].value,
        "/app/router-cert.pem": run.outputs["cert"].value,
        "/app/router-key.pem": mock_pem("EC PRIVATE KEY", "tls-server-key"),
    }


def test_router_uploads_are_a_secret_once_they_carry_the_key(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    assert is_secret(container.inputs["uploads"])
    assert inputs(container)["uploads"][3]["file"] == "/app/router-key.pem"
    assert "PRIVATE KEY" not in " ".join(container.inputs["command"])


def test_router_serves_tls_from_the_uploaded_files(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    command = container.inputs["command"]
    assert command[command.index("--ssl_keyfile_path") + 1] == "/app/router-key.pem"
    assert command[command.index("--ssl_certfile_path") + 1] == "/app/router-cert.pem"


def test_router_health_check_calls_https_trusting_the_stacks_ca(minimal_raw):
    (container,) = router_run(valid(minimal_raw)).of_type(CONTAINER)
    code = container.inputs["healthcheck"]["tests"][-1]
    assert "https://127.0.0.1:8888/health/liveliness" in code
    assert "cafile='/app/router-ca.pem'" in code


def test_plain_http_router_has_no_certificate_and_an_http_url(minimal_raw):
    run = router_run(valid(with_changes(minimal_raw, router={"plain_http": True})))
    (container,) = run.of_type(CONTAINER)
    assert run.of_type("tls:index/locallySignedCert:LocallySignedCert") == []
    assert len(container.inputs["uploads"]) == 1
    assert "--ssl_certfile_path" not in container.inputs["command"]
    assert run.outputs["url"].value.startswith("http://203.0.113.")


def test_router_key_starts_with_sk_and_is_secret():
    def program():
        keys = ApiKeys("k")
        pulumi.export("router", keys.router_key)
        pulumi.export("backend", keys.backend_key)

    outputs = build(program).outputs
    assert outputs["router"].value.startswith("sk-")
    assert outputs["router"].secret
    assert outputs["backend"].secret


def test_router_key_and_backend_key_differ():
    def program():
        keys = ApiKeys("k")
        pulumi.export(
            "same",
            pulumi.Output.all(keys.router_key, keys.backend_key).apply(lambda k: k[0][3:] == k[1]),
        )

    assert build(program).outputs["same"].value is False


def test_the_embedding_server_sharing_the_chat_gpu_waits_for_it_at_every_boot():
    run = stack_run("dev")
    chat = run.named("metis-llm-chat-gpu-1-container")
    embedding = run.named("metis-llm-embedding-gpu-1-container")
    (port,) = chat.inputs["ports"]

    assert embedding.inputs["entrypoints"] == START_AFTER_ENTRYPOINT
    assert embedding.inputs["command"][:2] == [f"http://{port['ip']}:8000/health", "--"]
    assert "entrypoints" not in chat.inputs


def test_servers_on_their_own_gpus_keep_the_images_entrypoint():
    run = stack_run("prod")

    assert not [
        c for c in run.of_type(CONTAINER) if c.inputs.get("entrypoints") == START_AFTER_ENTRYPOINT
    ]

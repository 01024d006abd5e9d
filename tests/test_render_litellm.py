"""The LiteLLM router config: one deployment per replica, keys only by environment."""

import yaml

from renderers.litellm import litellm_command, render_litellm_config, router_health_probe
from tests.config_cases import valid, with_changes

PROD_IPS = {
    "chat-1": "10.0.1.11",
    "chat-2": "10.0.1.12",
    "embed-1": "10.0.1.13",
    "router": "10.0.1.14",
}


def prod_config(prod_raw) -> dict:
    return yaml.safe_load(render_litellm_config(valid(prod_raw), PROD_IPS))


def test_one_model_list_entry_per_replica(prod_raw):
    entries = prod_config(prod_raw)["model_list"]
    assert [entry["model_info"]["id"] for entry in entries] == [
        "chat-chat-1",
        "chat-chat-2",
        "embedding-embed-1",
    ]


def test_replicas_of_a_service_share_its_served_name(prod_raw):
    names = [entry["model_name"] for entry in prod_config(prod_raw)["model_list"]]
    assert names == ["qwen2.5-coder-32b", "qwen2.5-coder-32b", "bge-m3"]


def test_backends_use_the_hosted_vllm_provider_at_their_private_address(prod_raw):
    params = prod_config(prod_raw)["model_list"][1]["litellm_params"]
    assert params["model"] == "hosted_vllm/qwen2.5-coder-32b"
    assert params["api_base"] == "http://10.0.1.12:8000/v1"


def test_the_embedding_deployment_is_marked_as_embedding(prod_raw):
    entry = prod_config(prod_raw)["model_list"][2]
    assert entry["model_info"]["mode"] == "embedding"
    assert entry["litellm_params"]["api_base"] == "http://10.0.1.13:8001/v1"


def test_chat_deployments_have_no_mode(prod_raw):
    assert "mode" not in prod_config(prod_raw)["model_list"][0]["model_info"]


def test_backend_key_is_an_environment_reference(prod_raw):
    keys = {entry["litellm_params"]["api_key"] for entry in prod_config(prod_raw)["model_list"]}
    assert keys == {"os.environ/VLLM_BACKEND_KEY"}


def test_master_key_is_a_top_level_environment_reference(prod_raw):
    config = prod_config(prod_raw)
    assert config["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}
    assert "master_key" not in config["router_settings"]


def test_router_key_and_backend_key_are_different_variables(prod_raw):
    config = prod_config(prod_raw)
    backend = config["model_list"][0]["litellm_params"]["api_key"]
    assert backend != config["general_settings"]["master_key"]


def test_the_config_holds_no_host_port_or_expansion_litellm_would_ignore(prod_raw):
    text = render_litellm_config(valid(prod_raw), PROD_IPS)
    config = yaml.safe_load(text)
    assert not {"host", "port"} & set(config["router_settings"])
    assert "${" not in text


def test_router_cools_a_replica_down_at_its_first_failure_and_retries_elsewhere(prod_raw):
    settings = prod_config(prod_raw)["router_settings"]
    assert settings["allowed_fails"] == 0
    assert settings["num_retries"] >= 1
    assert 0 < settings["cooldown_time"] <= 10
    assert settings["timeout"] == 600


def test_command_is_flags_only_for_the_images_litellm_entrypoint(prod_raw):
    command = litellm_command(valid(prod_raw))
    assert command[:6] == ["--config", "/app/config.yaml", "--port", "8888", "--num_workers", "4"]


def test_command_serves_tls_with_both_uploaded_files(minimal_raw):
    command = litellm_command(valid(minimal_raw))
    assert command[6:] == [
        "--ssl_keyfile_path", "/app/router-key.pem",
        "--ssl_certfile_path", "/app/router-cert.pem",
    ]  # fmt: skip


def test_command_serves_plain_http_only_on_request(minimal_raw):
    command = litellm_command(valid(with_changes(minimal_raw, router={"plain_http": True})))
    assert "--ssl_keyfile_path" not in command
    assert "--ssl_certfile_path" not in command


def test_router_health_probe_follows_the_scheme(minimal_raw):
    plain = valid(with_changes(minimal_raw, router={"plain_http": True}))
    assert router_health_probe(valid(minimal_raw)).ca_file == "/app/router-ca.pem"
    assert router_health_probe(plain).ca_file is None

"""A two-line stack file works: everything else has a sensible, derived default."""

from config.images import DEFAULT_LITELLM_IMAGE, DEFAULT_VLLM_IMAGE
from tests.config_cases import valid, with_changes


def test_minimal_config_is_one_gpu_host_with_both_models_and_the_router(minimal_raw):
    settings = valid(minimal_raw)
    assert list(settings.hosts) == ["gpu-1"]
    assert settings.chat.hosts == ["gpu-1"]
    assert settings.embedding.hosts == ["gpu-1"]
    assert settings.router.host == "gpu-1"


def test_default_host_has_a_gpu(minimal_raw):
    settings = valid(minimal_raw)
    assert settings.instance("gpu-1").has_gpu


def test_default_access_is_session_manager_without_inbound_ssh(minimal_raw):
    settings = valid(minimal_raw)
    assert settings.access.mode == "ssm"
    assert settings.access.admin_cidrs == []


def test_default_images_are_pinned_releases(minimal_raw):
    settings = valid(minimal_raw)
    assert (settings.images.vllm, settings.images.litellm) == (
        DEFAULT_VLLM_IMAGE,
        DEFAULT_LITELLM_IMAGE,
    )


def test_served_name_defaults_to_the_model(minimal_raw):
    settings = valid(with_changes(minimal_raw, chat={"model": "Qwen/Qwen3-8B"}))
    assert settings.chat.served_name == "Qwen/Qwen3-8B"


def test_chat_max_model_len_defaults_to_the_model_context_capped_at_32k(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "p5.48xlarge", "disk_gib": 300}},
        chat={"model": "Qwen/Qwen3-Coder-30B-A3B-Instruct"},
    )
    assert valid(raw).chat.max_model_len == 32768


def test_embedding_dimension_and_window_come_from_the_catalog(minimal_raw):
    settings = valid(with_changes(minimal_raw, embedding={"model": "BAAI/bge-m3"}))
    assert (settings.embedding.dimension, settings.embedding.max_model_len) == (1024, 8192)


def test_doc_chunking_for_a_512_token_embedding_model_is_448_with_96_overlap(minimal_raw):
    metis = valid(minimal_raw).metis
    assert (metis.doc_chunk_size, metis.doc_chunk_overlap) == (448, 96)


def test_doc_chunking_for_a_long_window_is_metis_own_default(minimal_raw):
    metis = valid(with_changes(minimal_raw, embedding={"model": "BAAI/bge-m3"})).metis
    assert (metis.doc_chunk_size, metis.doc_chunk_overlap) == (1024, 200)


def test_metis_max_token_length_is_the_chat_max_model_len(minimal_raw):
    settings = valid(with_changes(minimal_raw, chat={"max_model_len": 16384}))
    assert settings.metis.max_token_length == 16384


def test_router_defaults_to_the_first_chat_host(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"a": {}, "b": {}},
        chat={"hosts": ["b", "a"]},
        embedding={"hosts": ["a"]},
    )
    assert valid(raw).router.host == "b"


def test_services_default_to_the_first_gpu_host_not_a_cpu_one(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"edge": {"instance_type": "t3.medium", "disk_gib": 30}, "gpu": {}}
    )
    raw["router"]["host"] = "edge"
    settings = valid(raw)
    assert settings.chat.hosts == ["gpu"]
    assert settings.embedding.hosts == ["gpu"]


def test_dev_and_prod_stack_files_are_valid(dev_raw, prod_raw):
    valid(dev_raw)
    valid(prod_raw)

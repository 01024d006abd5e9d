"""metis.yaml for both layouts, parsed back as Metis does (yaml.safe_load)."""

import yaml

from renderers.metis import render_metis_config
from tests.config_cases import valid, with_changes

URL = "http://203.0.113.10:8888/v1"


def rendered(raw) -> dict:
    return yaml.safe_load(render_metis_config(valid(raw), URL))


def test_layout_15_puts_embeddings_in_their_own_provider_block(dev_raw):
    config = rendered(dev_raw)
    assert config["embedding_provider"] == {
        "name": "vllm",
        "base_url": URL,
        "code_embedding_model": "BAAI/bge-base-en-v1.5",
        "docs_embedding_model": "BAAI/bge-base-en-v1.5",
        "code_extra_kwargs": {"check_embedding_ctx_length": False},
        "docs_extra_kwargs": {"check_embedding_ctx_length": False},
    }


def test_layout_15_leaves_embedding_keys_out_of_llm_provider(dev_raw):
    assert rendered(dev_raw)["llm_provider"] == {
        "name": "vllm",
        "base_url": URL,
        "model": "Qwen/Qwen2.5-Coder-7B-Instruct",
    }


def test_layout_14_keeps_embedding_models_in_llm_provider(dev_raw):
    config = rendered(with_changes(dev_raw, metis={"version": "1.4"}))
    assert "embedding_provider" not in config
    assert config["llm_provider"]["code_embedding_model"] == "BAAI/bge-base-en-v1.5"
    assert config["llm_provider"]["docs_embedding_model"] == "BAAI/bge-base-en-v1.5"


def test_base_url_is_the_router_url_given(prod_raw):
    config = rendered(prod_raw)
    assert config["llm_provider"]["base_url"] == config["embedding_provider"]["base_url"] == URL


def test_engine_settings_follow_the_models(dev_raw):
    assert rendered(dev_raw)["metis_engine"] == {
        "embed_dim": 768,
        "doc_chunk_size": 448,
        "doc_chunk_overlap": 96,
        "max_token_length": 32768,
    }


def test_embed_dim_is_the_embedding_dimension(prod_raw):
    assert rendered(prod_raw)["metis_engine"]["embed_dim"] == 1024


def test_query_uses_the_chat_served_name_and_metis_settings(prod_raw):
    assert rendered(prod_raw)["query"] == {
        "model": "qwen2.5-coder-32b",
        "temperature": 0.0,
        "max_tokens": 2048,
    }


def test_the_file_holds_no_key_and_no_placeholder(prod_raw):
    config = rendered(prod_raw)
    for provider in ("llm_provider", "embedding_provider"):
        assert not {"api_key", "api_key_env"} & set(config[provider])
    assert "${" not in render_metis_config(valid(prod_raw), URL)


def test_the_file_says_where_the_key_comes_from(dev_raw):
    text = render_metis_config(valid(dev_raw), URL)
    assert 'export VLLM_API_KEY="$(pulumi stack output api_key --show-secrets)"' in text

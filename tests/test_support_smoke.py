"""Smoke tests: the fake vLLM server and the real LiteLLM proxy helpers work together.

The config is hand-written in the shape the renderer produces (``hosted_vllm/``
models, keys by ``os.environ/``, ``mode: embedding``, ``router_settings``,
``general_settings.master_key``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from testbed.fake_vllm import FakeVllm
from testbed.litellm_proxy import LitellmProxy, validate_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CHAT = "Qwen/Qwen2.5-Coder-7B-Instruct"
EMBED = "BAAI/bge-base-en-v1.5"
MASTER_KEY = "sk-smoke-master"
BACKEND_KEY = "sk-smoke-backend"
DIMENSION = 32


def render_config(chat_urls: list[str], embed_url: str) -> str:
    """A LiteLLM config in the renderer's shape, one chat deployment per URL.

    ``allowed_fails: 0`` (with retries) is what makes a dead deployment invisible
    to clients: the default (3) leaves the fail-rate heuristic in charge, which
    lets a few requests through to the dead backend first.
    """
    chats = "".join(
        f"""
  - model_name: {CHAT}
    litellm_params:
      model: hosted_vllm/{CHAT}
      api_base: {url}
      api_key: os.environ/VLLM_BACKEND_KEY
      timeout: 30
    model_info: {{id: chat-{index}}}"""
        for index, url in enumerate(chat_urls)
    )
    return f"""model_list:{chats}
  - model_name: {EMBED}
    litellm_params:
      model: hosted_vllm/{EMBED}
      api_base: {embed_url}
      api_key: os.environ/VLLM_BACKEND_KEY
    model_info: {{id: embed-0, mode: embedding}}
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
  allowed_fails: 0
  cooldown_time: 5
litellm_settings:
  drop_params: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


HELLO: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def chat_backend() -> Iterator[FakeVllm]:
    with FakeVllm(CHAT, api_key=BACKEND_KEY, max_model_len=64) as backend:
        yield backend


@pytest.fixture(scope="module")
def embed_backend() -> Iterator[FakeVllm]:
    with FakeVllm(EMBED, api_key=BACKEND_KEY, dimension=DIMENSION, max_model_len=64) as backend:
        yield backend


@pytest.fixture(scope="module")
def proxy(chat_backend: FakeVllm, embed_backend: FakeVllm) -> Iterator[LitellmProxy]:
    config = render_config([chat_backend.url], embed_backend.url)
    with LitellmProxy(config, master_key=MASTER_KEY, backend_key=BACKEND_KEY) as running:
        yield running


@pytest.fixture
def client(proxy: LitellmProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)


def test_fake_vllm_behaves_like_vllm(chat_backend: FakeVllm, embed_backend: FakeVllm) -> None:
    good = {"Authorization": f"Bearer {BACKEND_KEY}"}
    assert httpx.get(chat_backend.url.removesuffix("/v1") + "/health").status_code == 200
    unauthorized = httpx.get(f"{chat_backend.url}/models")
    assert (unauthorized.status_code, unauthorized.json()) == (401, {"error": "Unauthorized"})
    assert httpx.get(f"{chat_backend.url}/models", headers=good).json()["data"][0]["id"] == CHAT

    wrong_model = {"model": "other", "messages": [{"role": "user", "content": "hi"}]}
    missing = httpx.post(f"{chat_backend.url}/chat/completions", json=wrong_model, headers=good)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "NotFoundError"

    too_long = {"model": CHAT, "messages": [{"role": "user", "content": "word " * 100}]}
    rejected = httpx.post(f"{chat_backend.url}/chat/completions", json=too_long, headers=good)
    assert rejected.status_code == 400
    assert rejected.json()["error"]["message"].startswith(
        "This model's maximum context length is 64 tokens. However, you requested 100 tokens"
    )

    null_format = {"model": EMBED, "input": ["a"], "encoding_format": None}
    invalid = httpx.post(f"{embed_backend.url}/embeddings", json=null_format, headers=good)
    assert invalid.status_code == 400


def test_models_through_proxy(client: openai.OpenAI) -> None:
    assert {model.id for model in client.models.list()} == {CHAT, EMBED}


def test_chat_through_proxy(client: openai.OpenAI, chat_backend: FakeVllm) -> None:
    before = chat_backend.served("/v1/chat/completions")
    reply = client.chat.completions.create(model=CHAT, messages=HELLO)
    assert reply.choices[0].message.content == chat_backend.reply
    stream = client.chat.completions.create(model=CHAT, messages=HELLO, stream=True)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert streamed == chat_backend.reply
    assert chat_backend.served("/v1/chat/completions") == before + 2
    assert chat_backend.bodies("/v1/chat/completions")[-1]["model"] == CHAT


def test_responses_are_forwarded_natively(
    proxy: LitellmProxy, client: openai.OpenAI, chat_backend: FakeVllm
) -> None:
    before = chat_backend.served("/v1/responses")
    assert client.responses.create(model=CHAT, input="hi").output_text == chat_backend.reply
    llm = ChatOpenAI(
        model=CHAT, base_url=proxy.base_url, api_key=MASTER_KEY, use_responses_api=True
    )
    assert llm.invoke("hi").text == chat_backend.reply
    assert chat_backend.served("/v1/responses") == before + 2


def test_embeddings_through_proxy(
    proxy: LitellmProxy, client: openai.OpenAI, embed_backend: FakeVllm
) -> None:
    vectors = client.embeddings.create(model=EMBED, input=["def f(): pass", "x = 1"]).data
    assert [len(item.embedding) for item in vectors] == [DIMENSION, DIMENSION]
    embeddings = OpenAIEmbeddings(
        model=EMBED,
        base_url=proxy.base_url,
        api_key=MASTER_KEY,
        check_embedding_ctx_length=False,
    )
    assert len(embeddings.embed_query("what does f do")) == DIMENSION
    assert embed_backend.bodies("/v1/embeddings")[-1]["input"] == ["what does f do"]


def test_context_overflow_is_a_400_without_retry(
    client: openai.OpenAI, chat_backend: FakeVllm
) -> None:
    before = len(chat_backend.bodies("/v1/chat/completions"))
    too_long: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": "word " * 100}
    ]
    with pytest.raises(openai.BadRequestError, match="maximum context length is 64 tokens"):
        client.chat.completions.create(model=CHAT, messages=too_long)
    assert len(chat_backend.bodies("/v1/chat/completions")) == before + 1


def test_proxy_rejects_the_backend_key(proxy: LitellmProxy, chat_backend: FakeVllm) -> None:
    before = len(chat_backend.bodies("/v1/chat/completions"))
    body = {"model": CHAT, "messages": HELLO}
    answer = httpx.post(
        f"{proxy.base_url}/chat/completions", json=body, headers=proxy.headers(BACKEND_KEY)
    )
    assert answer.status_code >= 400
    assert len(chat_backend.bodies("/v1/chat/completions")) == before


def test_killed_backend_fails_over(embed_backend: FakeVllm) -> None:
    """One of two chat backends dies mid-run; no client request fails."""
    with (
        FakeVllm(CHAT, api_key=BACKEND_KEY) as first,
        FakeVllm(CHAT, api_key=BACKEND_KEY) as second,
    ):
        config = render_config([first.url, second.url], embed_backend.url)
        with LitellmProxy(config, master_key=MASTER_KEY, backend_key=BACKEND_KEY) as proxy:
            client = openai.OpenAI(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)
            for index in range(40):
                if index == 10:
                    first.kill()
                client.chat.completions.create(model=CHAT, messages=HELLO)
                time.sleep(0.02)
            chat = "/v1/chat/completions"
            assert first.served(chat) + second.served(chat) == 40


def test_validate_config(chat_backend: FakeVllm, embed_backend: FakeVllm) -> None:
    ok, output = validate_config(render_config([chat_backend.url], embed_backend.url))
    assert ok, output
    broken, output = validate_config("model_list: [\n")
    assert not broken, output

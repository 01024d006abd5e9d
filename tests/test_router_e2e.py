"""The rendered router and Metis configs, proven with real software on loopback.

Each stack's LiteLLM config, exactly as rendered, runs in the real LiteLLM proxy (the
version the stacks pin for the image) in front of vLLM-compatible test servers. Every
"host" of the stack gets its own loopback address (127.0.0.x), so the replicas keep their
real ports and the config needs no rewriting. Clients are configured the way Metis does it:
from the rendered metis.yaml and VLLM_API_KEY only.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
import yaml
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from config.settings import Settings
from renderers.litellm import deployments, render_litellm_config
from renderers.metis import render_metis_config
from testbed.fake_vllm import FakeVllm
from testbed.litellm_proxy import LitellmProxy, validate_config
from testbed.stack import loopback_addresses, replica_server, stack_router
from tests.config_cases import valid
from tests.support.stacks import stack_raw_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROUTER_KEY = "sk-e2e-router-key"
BACKEND_KEY = "e2e-backend-key"


@dataclass
class RunningBackend:
    """A stack's router (real LiteLLM) in front of test servers, one per replica."""

    settings: Settings
    proxy: LitellmProxy
    replicas: dict[str, FakeVllm]
    """By deployment id (`chat-<host>`, `embedding-<host>`)."""
    metis: dict[str, Any]
    """The rendered metis.yaml, pointing at this router."""

    def client(self, **options: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.proxy.base_url, api_key=ROUTER_KEY, **options)

    def replicas_of(self, service: str) -> list[FakeVllm]:
        return [fake for key, fake in self.replicas.items() if key.startswith(f"{service}-")]


@pytest.fixture(scope="module", params=["dev", "prod"])
def backend(request: pytest.FixtureRequest) -> Iterator[RunningBackend]:
    settings = valid(stack_raw_config(request.param))
    addresses = loopback_addresses(settings)
    with ExitStack() as running:
        replicas = {
            deployment.deployment_id: running.enter_context(
                replica_server(settings, deployment, addresses, BACKEND_KEY)
            )
            for deployment in deployments(settings)
        }
        proxy = running.enter_context(
            stack_router(settings, addresses, router_key=ROUTER_KEY, backend_key=BACKEND_KEY)
        )
        metis = yaml.safe_load(render_metis_config(settings, proxy.base_url))
        yield RunningBackend(settings, proxy, replicas, metis)


@pytest.fixture
def metis_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """The router key where Metis looks for it."""
    monkeypatch.setenv("VLLM_API_KEY", ROUTER_KEY)
    return os.environ["VLLM_API_KEY"]


def test_models_lists_both_served_names(backend: RunningBackend):
    names = {model.id for model in backend.client().models.list()}
    assert names == {backend.settings.chat.served_name, backend.settings.embedding.served_name}


def test_chat_completions_through_the_router(backend: RunningBackend):
    reply = backend.client().chat.completions.create(
        model=backend.settings.chat.served_name, messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "Hello from the fake vLLM server."


def test_responses_through_the_router(backend: RunningBackend):
    reply = backend.client().responses.create(model=backend.settings.chat.served_name, input="hi")
    assert reply.output_text == "Hello from the fake vLLM server."
    assert sum(fake.served("/v1/responses") for fake in backend.replicas_of("chat")) >= 1


def test_embeddings_have_the_stacks_dimension(backend: RunningBackend):
    result = backend.client().embeddings.create(
        model=backend.settings.embedding.served_name, input=["def f(): pass", "docs"]
    )
    assert [len(item.embedding) for item in result.data] == [
        backend.settings.embedding.dimension
    ] * 2


def test_a_request_without_the_router_key_is_refused(backend: RunningBackend):
    replicas = backend.replicas_of("chat")
    before = sum(fake.served("/v1/chat/completions") for fake in replicas)
    answer = httpx.post(
        f"{backend.proxy.base_url}/chat/completions",
        json={
            "model": backend.settings.chat.served_name,
            "messages": [{"role": "user", "content": "hi"}],
        },
        timeout=30,
    )
    assert answer.status_code == 401
    assert sum(fake.served("/v1/chat/completions") for fake in replicas) == before


def test_a_request_with_the_backend_key_is_refused(backend: RunningBackend):
    client = openai.OpenAI(base_url=backend.proxy.base_url, api_key=BACKEND_KEY, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(
            model=backend.settings.chat.served_name, messages=[{"role": "user", "content": "hi"}]
        )
    # Without a database LiteLLM answers any non-master key with 400 "No connected db".
    assert refused.value.status_code in (400, 401)


def test_metis_chat_client_works_from_the_rendered_config(backend: RunningBackend, metis_env):
    provider, query = backend.metis["llm_provider"], backend.metis["query"]
    chat = ChatOpenAI(
        model=provider["model"],
        base_url=provider["base_url"],
        api_key=os.environ["VLLM_API_KEY"],
        temperature=query["temperature"],
        max_tokens=query["max_tokens"],
        use_responses_api=True,
    )
    assert chat.invoke("Review this code.").text == "Hello from the fake vLLM server."


def test_metis_embeddings_client_works_from_the_rendered_config(backend: RunningBackend, metis_env):
    provider = backend.metis["embedding_provider"]
    for kind in ("code", "docs"):
        embeddings = OpenAIEmbeddings(
            model=provider[f"{kind}_embedding_model"],
            base_url=provider["base_url"],
            api_key=os.environ["VLLM_API_KEY"],
            **provider[f"{kind}_extra_kwargs"],
        )
        vectors = embeddings.embed_documents(["int main(void) { return 0; }", "a design note"])
        assert [len(v) for v in vectors] == [backend.metis["metis_engine"]["embed_dim"]] * 2


def test_metis_14_layout_works_with_the_openai_sdk(backend: RunningBackend, metis_env):
    settings_14 = backend.settings.model_copy(
        update={"metis": backend.settings.metis.model_copy(update={"version": "1.4"})}
    )
    provider = yaml.safe_load(render_metis_config(settings_14, backend.proxy.base_url))[
        "llm_provider"
    ]
    client = openai.OpenAI(base_url=provider["base_url"], api_key=os.environ["VLLM_API_KEY"])
    chat = client.chat.completions.create(
        model=provider["model"], messages=[{"role": "user", "content": "hi"}]
    )
    vectors = client.embeddings.create(model=provider["docs_embedding_model"], input="docs")
    assert chat.choices[0].message.content
    assert len(vectors.data[0].embedding) == backend.settings.embedding.dimension


def test_a_prompt_past_max_model_len_gets_vllms_error_without_retries(backend: RunningBackend):
    def attempts() -> int:
        # Only completions: a router worker also asks a replica's /v1/models on first use.
        return sum(
            request.path == "/v1/chat/completions"
            for fake in backend.replicas_of("chat")
            for request in list(fake.requests)
        )

    before = attempts()
    too_long = "word " * (backend.settings.chat.max_model_len + 1)
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        backend.client(max_retries=0).chat.completions.create(
            model=backend.settings.chat.served_name,
            messages=[{"role": "user", "content": too_long}],
        )
    assert attempts() == before + 1


def test_200_concurrent_mixed_requests_all_succeed(backend: RunningBackend):
    settings = backend.settings

    async def load() -> list[Any]:
        client = openai.AsyncOpenAI(
            base_url=backend.proxy.base_url, api_key=ROUTER_KEY, max_retries=0
        )
        chats = [
            client.chat.completions.create(
                model=settings.chat.served_name, messages=[{"role": "user", "content": f"q{n}"}]
            )
            for n in range(150)
        ]
        embeds = [
            client.embeddings.create(model=settings.embedding.served_name, input=f"chunk {n}")
            for n in range(50)
        ]
        try:
            return await asyncio.gather(*chats, *embeds, return_exceptions=True)
        finally:
            await client.close()

    results = asyncio.run(load())
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(results) == 200


@pytest.mark.parametrize("backend", ["prod"], indirect=True)
def test_a_chat_replica_killed_mid_run_fails_no_client_request(backend: RunningBackend):
    victim, survivor = backend.replicas_of("chat")
    client = backend.client(max_retries=0)
    failures = []
    try:
        for n in range(60):
            if n == 20:
                victim.kill()
            try:
                client.chat.completions.create(
                    model=backend.settings.chat.served_name,
                    messages=[{"role": "user", "content": f"request {n}"}],
                )
            except openai.OpenAIError as error:
                failures.append((n, error))
    finally:
        victim.start()
    assert failures == []
    assert survivor.served("/v1/chat/completions") >= 40


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_litellm_validate_config_accepts_the_rendered_config(stack: str):
    settings = valid(stack_raw_config(stack))
    ok, output = validate_config(render_litellm_config(settings, loopback_addresses(settings)))
    assert ok, output

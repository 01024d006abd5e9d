"""The router's TLS, proven with the real LiteLLM proxy and the clients Metis uses.

The dev stack's rendered config and TLS flags run in the real proxy, with certificates made
from the stack's description (tests/test_router_certificates.py) plus a 127.0.0.1 name.
Clients are built as Metis builds them (langchain-openai's ChatOpenAI on the Responses API,
OpenAIEmbeddings without token counting, the openai client), and trust is decided only by
the environment, as for Metis: each test sets SSL_CERT_FILE itself (this machine exports
its own CA variables).
"""

from __future__ import annotations

import datetime
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import certifi
import openai
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from langchain_openai.chat_models import _client_utils

from config.settings import Settings
from renderers.certificates import server_names
from renderers.litellm import deployments, router_health_probe
from renderers.probes import probe_code
from testbed.certificates import LOOPBACK, TlsFiles, loopback_names, make_certificates
from testbed.litellm_proxy import LitellmProxy
from testbed.stack import loopback_addresses, replica_server, stack_router
from tests.config_cases import valid
from tests.support.stacks import stack_raw_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROUTER_KEY = "sk-e2e-tls-router"
BACKEND_KEY = "e2e-tls-backend"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return valid(stack_raw_config("dev"))


@pytest.fixture(scope="module")
def proxy(settings: Settings) -> Iterator[LitellmProxy]:
    addresses = loopback_addresses(settings)
    with ExitStack() as running:
        for deployment in deployments(settings):
            running.enter_context(replica_server(settings, deployment, addresses, BACKEND_KEY))
        yield running.enter_context(
            stack_router(settings, addresses, router_key=ROUTER_KEY, backend_key=BACKEND_KEY)
        )


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch):
    """Set the client environment's CA file (None: no CA variable at all). langchain-openai
    keeps its default httpx clients per base URL for the process (`lru_cache` in
    `chat_models/_client_utils.py`): they are dropped, as a fresh Metis process has none."""

    def set_ca_file(path: Path | str | None) -> None:
        _client_utils._cached_sync_httpx_client.cache_clear()
        _client_utils._cached_async_httpx_client.cache_clear()
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        if path is None:
            monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        else:
            monkeypatch.setenv("SSL_CERT_FILE", str(path))

    return set_ca_file


def causes(error: BaseException) -> str:
    """Every exception in the chain, as text: the TLS reason is a few levels down."""
    found = []
    current: BaseException | None = error
    while current is not None:
        found.append(repr(current))
        current = current.__cause__ or current.__context__
    return " <- ".join(found)


def chat(settings: Settings, base_url: str) -> str:
    model = ChatOpenAI(
        model=settings.chat.served_name,
        base_url=base_url,
        api_key=ROUTER_KEY,
        use_responses_api=True,
        max_retries=0,
    )
    return str(model.invoke("Say OK").content)


def embed(settings: Settings, base_url: str) -> list[float]:
    model = OpenAIEmbeddings(
        model=settings.embedding.served_name,
        base_url=base_url,
        api_key=ROUTER_KEY,
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    return model.embed_query("def f(): pass")


def test_the_router_serves_https(proxy: LitellmProxy):
    assert proxy.base_url.startswith("https://127.0.0.1:")
    assert "LiteLLM Proxy: Using SSL with certfile" in proxy.log()


def test_with_the_ca_metis_chat_calls_succeed(settings, proxy, trust):
    trust(proxy.tls.ca_file)
    assert chat(settings, proxy.base_url)


def test_with_the_ca_metis_embedding_calls_succeed(settings, proxy, trust):
    trust(proxy.tls.ca_file)
    assert len(embed(settings, proxy.base_url)) == settings.embedding.dimension


def test_with_the_documented_bundle_of_public_roots_and_the_ca_calls_succeed(
    settings, proxy, trust, tmp_path
):
    bundle = tmp_path / "metis-llm-ca-bundle.pem"
    bundle.write_text(Path(certifi.where()).read_text() + proxy.tls.ca_file.read_text())
    trust(bundle)
    assert chat(settings, proxy.base_url)


def test_without_the_ca_calls_fail_certificate_verification(settings, proxy, trust):
    trust(None)
    with pytest.raises(openai.APIConnectionError) as failure:
        chat(settings, proxy.base_url)
    assert "CERTIFICATE_VERIFY_FAILED" in causes(failure.value)


def test_without_the_ca_embedding_calls_fail_too(settings, proxy, trust):
    trust(certifi.where())
    with pytest.raises(openai.APIConnectionError):
        embed(settings, proxy.base_url)


def test_a_name_the_certificate_does_not_cover_fails(settings, proxy, trust):
    trust(proxy.tls.ca_file)
    with pytest.raises(openai.APIConnectionError) as failure:
        chat(settings, f"https://localhost:{proxy.port}/v1")
    assert "Hostname mismatch" in causes(failure.value)


def test_an_ip_the_certificate_does_not_cover_fails(settings, proxy, trust):
    trust(proxy.tls.ca_file)
    client = openai.OpenAI(
        base_url=f"https://127.0.0.2:{proxy.port}/v1", api_key=ROUTER_KEY, max_retries=0
    )
    with pytest.raises(openai.APIConnectionError):
        client.models.list()


def test_plain_http_to_the_tls_port_fails(proxy, trust):
    trust(proxy.tls.ca_file)
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=ROUTER_KEY, max_retries=0
    )
    with pytest.raises(openai.APIConnectionError):
        client.models.list()


def health_probe(settings: Settings, proxy: LitellmProxy, ca_file: Path) -> int:
    """The rendered health check's Python, run here against the proxy's port and a CA."""
    probe = router_health_probe(settings)
    code = probe_code(proxy.port, probe.path, str(ca_file))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode


def test_the_health_check_passes_trusting_the_routers_ca(settings, proxy):
    assert health_probe(settings, proxy, proxy.tls.ca_file) == 0


def test_the_health_check_fails_when_the_router_serves_another_cas_certificate(
    settings, proxy, tmp_path
):
    other = make_certificates(tmp_path, loopback_names())
    assert health_probe(settings, proxy, other.ca_file) != 0


@pytest.fixture
def expired(tmp_path: Path) -> Iterator[tuple[TlsFiles, int]]:
    """A TLS server on loopback presenting a certificate a year past its end (what a stack
    nobody ran `pulumi up` on serves), signed by a CA made then and still valid (ten
    years). The client side is under test, so a plain Python TLS server serves it."""
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2 * 365)
    files = make_certificates(
        tmp_path, server_names("203.0.113.7", "us-east-1", LOOPBACK), now=past
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert_file, files.key_file)
    server = ThreadingHTTPServer((LOOPBACK, 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield files, server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_expired_certificate_fails_with_certificate_has_expired(expired, trust):
    files, port = expired
    trust(files.ca_file)
    client = openai.OpenAI(base_url=f"https://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIConnectionError) as failure:
        client.models.list()
    assert "certificate has expired" in causes(failure.value)

"""Secrets in the stack config: hf_token must be stored as a secret (`secure:`), an empty one
is not set, and no message ever shows a secret's value or anything that looks like key
material, wherever and however it was written."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.errors import ConfigError, Problem
from config.loader import load_stack
from tests.config_cases import with_changes

TOKEN = "hf_" + "Zq81vXw3" * 4 + "ab"
GATED = {"model": "meta-llama/Llama-3.1-8B-Instruct"}


def qualified(raw: dict[str, Any]) -> dict[str, Any]:
    return {f"metis-llm:{key}": value for key, value in raw.items()}


def stack_problems(config: dict[str, Any], secret_keys=()) -> list[Problem]:
    try:
        load_stack(config, secret_keys=secret_keys)
    except ConfigError as error:
        return error.problems
    return []


def message(config: dict[str, Any], secret_keys=()) -> str:
    try:
        load_stack(config, secret_keys=secret_keys)
    except ConfigError as error:
        return str(error)
    return ""


def test_a_token_stored_as_a_secret_is_set(minimal_raw):
    config = qualified(with_changes(minimal_raw, chat=GATED, hosts={"gpu-1": {"disk_gib": 250}}))
    settings = load_stack(
        {**config, "metis-llm:hf_token": TOKEN}, secret_keys={"metis-llm:hf_token"}
    )
    assert settings.has_hf_token


def test_a_token_in_plain_text_is_refused_and_never_shown(minimal_raw):
    config = {**qualified(minimal_raw), "metis-llm:hf_token": TOKEN}
    (problem,) = stack_problems(config)
    assert (problem.key, problem.reason.split(":")[0]) == (
        "metis-llm:hf_token",
        "stored in plain text",
    )
    assert "pulumi config set --secret metis-llm:hf_token" in problem.fix
    assert TOKEN not in str(problem)


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_an_empty_token_counts_as_unset(minimal_raw, empty):
    config = qualified(with_changes(minimal_raw, chat=GATED, hosts={"gpu-1": {"disk_gib": 250}}))
    for secret_keys in ((), ("metis-llm:hf_token",)):
        (problem,) = stack_problems({**config, "metis-llm:hf_token": empty}, secret_keys)
        assert "is gated on Hugging Face" in problem.reason


def test_a_token_with_a_line_break_is_refused(minimal_raw):
    config = {**qualified(minimal_raw), "metis-llm:hf_token": TOKEN + "\n"}
    (problem,) = stack_problems(config, {"metis-llm:hf_token"})
    assert "line breaks" in problem.reason


def test_a_token_that_is_no_text_is_refused_without_showing_it(minimal_raw):
    config = {**qualified(minimal_raw), "metis-llm:hf_token": [TOKEN]}
    (problem,) = stack_problems(config, {"metis-llm:hf_token"})
    assert problem.reason == "not a token but a list"
    assert TOKEN not in str(problem)


def test_a_setting_stored_as_a_secret_is_refused_without_showing_it(minimal_raw):
    config = qualified(minimal_raw)
    (problem,) = stack_problems(config, {"metis-llm:router"})
    assert problem.key == "metis-llm:router"
    assert "unencrypted" in problem.reason
    assert "198.51.100.0/24" not in str(problem)


def test_problems_inside_a_secret_value_show_no_value(minimal_raw):
    config = qualified(with_changes(minimal_raw, router={"allowed_cidrs": ["private-text-x"]}))
    shown = message(config, {"metis-llm:router"})
    assert "metis-llm:router.allowed_cidrs[0] = [secret]" in shown
    assert "private-text-x" not in shown


def test_a_value_stored_as_a_secret_under_a_misspelt_namespace_is_not_shown(minimal_raw):
    config = {**qualified(minimal_raw), "metis_llm:router": {"allowed_cidrs": ["private-x"]}}
    shown = message(config, {"metis_llm:router"})
    assert "metis_llm:router = [secret]" in shown
    assert "private-x" not in shown


def test_a_setting_merely_named_for_tokens_is_shown(minimal_raw):
    raw = with_changes(minimal_raw, metis={"query_max_tokens": -5})
    assert "metis-llm:metis.query_max_tokens = -5" in message(qualified(raw))


# Property: no message shows a secret, wherever and however it is written

ALNUM = string.ascii_letters + string.digits


def body(size: int, alphabet: str = ALNUM) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size + 30)


def pem(kind: str, lines: list[str]) -> str:
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"])


key_material = st.one_of(
    body(34).map("hf_{}".format),
    body(20, ALNUM + "-_")
    .filter(lambda b: not b.startswith(("ssh-", "ecdsa-")))
    .map("sk-{}".format),
    body(36).map("ghp_{}".format),
    body(16, string.ascii_uppercase + string.digits).map("AKIA{}".format),
    st.builds(
        pem,
        st.sampled_from(["OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY"]),
        st.lists(body(64, ALNUM + "+/"), min_size=1, max_size=6),
    ),
    body(40, ALNUM + "+/"),
)
"""Tokens by their published prefixes, PEM private keys, long base64 runs."""

misspelt_secret_keys = st.sampled_from(
    ["hf-token", "hftoken", "HF_TOKEN", "hf_tokn", "hf_tokens", "huggingface_token", "api_key",
     "password", "secret", "access.private_key", "router.api_key", "hf.token"]
)  # fmt: skip
distinctive = st.text(alphabet=ALNUM + "!#%&*+,;<=>?@^~", min_size=16, max_size=60)
"""Any text long enough that it cannot appear in a message by chance."""


def shapes(secret: str) -> st.SearchStrategy[Any]:
    """A secret as a text, inside a list (a key pasted line by line), or inside a mapping."""
    return st.sampled_from([secret, secret.splitlines() or [secret], {"value": secret}, [[secret]]])


@st.composite
def placed(draw: st.DrawFn, base: dict[str, Any], secret: str) -> dict[str, Any]:
    """The config with the secret written somewhere a user might put it, and a port no
    config takes, so that there is always a message."""
    raw = copy.deepcopy(base)
    raw["router"]["port"] = 80
    value = draw(shapes(secret))
    where = draw(
        st.sampled_from(
            ["ssh_public_key", "identity_file", "extra_args", "served_name", "model", "image",
             "vpc_id", "cidr", "unknown_key", "host_name", "catalog_model", "metis"]
        )
    )  # fmt: skip
    sections = {
        "ssh_public_key": ("access", "ssh_public_key"),
        "identity_file": ("access", "ssh_identity_file"),
        "served_name": ("chat", "served_name"),
        "model": ("embedding", "model"),
        "image": ("images", "litellm"),
        "vpc_id": ("network", "vpc_id"),
        "metis": ("metis", "version"),
    }
    if where in sections:
        section, key = sections[where]
        raw.setdefault(section, {})[key] = value
    elif where == "extra_args":
        raw.setdefault("chat", {})["extra_args"] = ["--api-key", value]
    elif where == "cidr":
        raw["router"]["allowed_cidrs"] = [value]
    elif where == "unknown_key":
        raw["some_setting"] = value
    elif where == "host_name":
        raw["hosts"] = {secret[:200]: {}}
    else:
        raw["catalog"] = {"models": {secret[:200]: {"kind": "chat"}}}
    return raw


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def pieces(secret: str, size: int = 12) -> list[str]:
    """Windows of the secret's distinctive part (after any prefix or PEM header)."""
    core = "".join(line for line in secret.splitlines() if not line.startswith("-----"))
    core = core.split("_", 1)[-1] if core.startswith(("hf_", "ghp_")) else core
    core = core[3:] if core.startswith("sk-") else core
    return [core[i : i + size] for i in range(0, max(1, len(core) - size + 1), size)]


@FUZZ
@given(data=st.data(), secret=key_material)
def test_key_material_written_anywhere_never_appears_in_a_message(minimal_raw, data, secret):
    config = qualified(data.draw(placed(minimal_raw, secret)))
    shown = message(config)
    assert shown, "the config was accepted"
    assert [piece for piece in pieces(secret) if piece in shown] == []


@FUZZ
@given(key=misspelt_secret_keys, secret=distinctive, data=st.data())
def test_the_value_of_a_key_named_like_a_secret_never_appears(minimal_raw, key, secret, data):
    value = data.draw(shapes(secret))
    section, _, name = key.rpartition(".")
    raw = copy.deepcopy(minimal_raw)
    if section:
        raw.setdefault(section, {})[name] = value
    else:
        raw[name] = value
    shown = message(qualified(raw))
    assert shown
    assert secret not in shown
    assert json.dumps(secret)[1:-1] not in shown


@FUZZ
@given(key=st.sampled_from(["router", "access", "chat", "images", "hosts"]), secret=distinctive)
def test_values_the_engine_holds_as_secrets_never_appear(minimal_raw, key, secret):
    raw = with_changes(minimal_raw, **{key: {"x": secret, "allowed_cidrs": [secret]}})
    shown = message(qualified(raw), {f"metis-llm:{key}"})
    assert shown
    assert secret not in shown

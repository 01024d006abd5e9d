"""Validation: a service's quantization must match how its checkpoint is stored, which the
catalog records; the memory check sizes the weights as they are served."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.catalog import SEED_MODELS, ChatModelSpec
from tests.config_cases import problem_at, problems, valid, with_changes

KEY = "metis-llm:chat.quantization"
BIG = {"gpu-1": {"instance_type": "g6e.12xlarge", "disk_gib": 300}}
"""Room for any seed chat model, so only the quantization is judged."""


def chat(minimal_raw, model: str, quantization: str | None, **extra):
    service = {"model": model, "quantization": quantization, "max_model_len": 4096, **extra}
    return with_changes(minimal_raw, hosts=BIG, chat=service)


@pytest.mark.parametrize("method", ["awq", "gptq"])
def test_a_4bit_method_on_a_16bit_checkpoint_is_refused(minimal_raw, method):
    problem = problem_at(chat(minimal_raw, "Qwen/Qwen2.5-Coder-7B-Instruct", method), KEY)
    assert "is a 16-bit checkpoint" in problem.reason
    assert "Qwen/Qwen2.5-Coder-32B-Instruct-" in problem.fix


def test_fp8_on_a_16bit_checkpoint_is_valid_and_sized_as_8bit(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6.xlarge", "disk_gib": 160}},
        chat={"model": "Qwen/Qwen3-8B", "quantization": "fp8"},
    )
    valid(raw)  # 16-bit weights alone (15.3 GiB) would not fit with the cache in 19.2 GiB


@pytest.mark.parametrize(
    ("model", "method"),
    [
        ("Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", "gptq"),
        ("Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", "fp8"),
        ("Qwen/Qwen2.5-Coder-32B-Instruct-GPTQ-Int4", "awq"),
        ("Qwen/Qwen3-8B-FP8", "awq"),
        ("openai/gpt-oss-20b", "fp8"),
    ],
)
def test_another_method_than_the_checkpoints_is_refused(minimal_raw, model, method):
    problem = problem_at(chat(minimal_raw, model, method), KEY)
    stored = SEED_MODELS[model].quantization
    assert f"is stored as {stored}" in problem.reason
    assert f"set it to {stored}" in problem.fix


@pytest.mark.parametrize("method", ["awq", None])
def test_an_awq_checkpoint_is_sized_as_4bit_whether_or_not_quantization_is_set(minimal_raw, method):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6e.xlarge", "disk_gib": 200}},
        chat={"model": "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ", "quantization": method},
    )
    valid(raw)  # 16-bit, the 32B weights alone (60 GiB) exceed the L40S's 48 GiB


def test_a_model_described_in_the_stack_is_checked_by_its_quantization(minimal_raw):
    shape = {"params_b": 7.6, "layers": 28, "attention_heads": 28, "kv_heads": 4, "head_dim": 128}
    described = {"kind": "chat", **shape, "context": 32768, "quantization": "gptq"}
    raw = with_changes(
        minimal_raw,
        chat={"model": "someone/coder-7b-gptq", "quantization": "awq"},
        catalog={"models": {"someone/coder-7b-gptq": described}},
    )
    assert "is stored as gptq" in problem_at(raw, KEY).reason


CHAT_MODELS = sorted(name for name, spec in SEED_MODELS.items() if isinstance(spec, ChatModelSpec))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(model=st.sampled_from(CHAT_MODELS), method=st.sampled_from([None, "awq", "gptq", "fp8"]))
def test_exactly_the_mismatches_are_refused(minimal_raw, model, method):
    raw = chat(minimal_raw, model, method)
    stored = SEED_MODELS[model].quantization
    mismatch = method is not None and method != stored and not (stored is None and method == "fp8")
    refused = KEY in {p.key for p in problems(raw, has_hf_token=True)}
    assert refused == mismatch

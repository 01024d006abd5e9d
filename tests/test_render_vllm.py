"""The vLLM container command and environment, per image kind and vLLM version."""

import json
import subprocess
import sys
import threading

import pytest

from config.services import SERVICES
from renderers.vllm import (
    START_AFTER_ENTRYPOINT,
    START_AFTER_SCRIPT,
    start_after_command,
    started_before,
    vllm_command,
    vllm_server,
)
from testbed.fake_vllm import FakeVllm
from tests.config_cases import valid, with_changes
from tests.support.shellcheck import shellcheck


def test_vllm_openai_image_command_starts_with_the_model(minimal_raw):
    command = vllm_command(valid(minimal_raw), "chat")
    assert command[0] == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert "serve" not in command


OLD_VLLM_CLIENT = {"version": "1.3"}
"""Metis 1.3 (chat completions) still works with vLLM releases older than Metis 1.5 needs."""


def test_ngc_image_command_runs_vllm_serve(minimal_raw):
    raw = with_changes(
        minimal_raw,
        images={"vllm": "nvcr.io/nvidia/vllm:25.09-py3", "vllm_version": "0.10.1"},
        metis=OLD_VLLM_CLIENT,
    )
    assert vllm_command(valid(raw), "chat")[:3] == [
        "vllm",
        "serve",
        "Qwen/Qwen2.5-Coder-7B-Instruct",
    ]


def test_command_carries_the_service_settings(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6e.12xlarge", "disk_gib": 250}},
        chat={
            "served_name": "coder",
            "tensor_parallel_size": 2,
            "max_model_len": 16384,
            "dtype": "bfloat16",
        },
    )
    command = " ".join(vllm_command(valid(raw), "chat"))
    for expected in (
        "--served-model-name coder",
        "--host 0.0.0.0",
        "--port 8000",
        "--max-model-len 16384",
        "--gpu-memory-utilization 0.8",
        "--tensor-parallel-size 2",
        "--dtype bfloat16",
    ):
        assert expected in command


def test_embedding_uses_the_pooling_runner_on_current_vllm(minimal_raw):
    command = vllm_command(valid(minimal_raw), "embedding")
    assert command[-2:] == ["--runner", "pooling"]
    assert "--task" not in command


def test_embedding_uses_task_embed_before_vllm_0_10_1(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": "vllm/vllm-openai:v0.10.0"}, metis=OLD_VLLM_CLIENT
    )
    assert vllm_command(valid(raw), "embedding")[-2:] == ["--task", "embed"]


def test_embedding_uses_the_pooling_runner_from_vllm_0_10_1(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": "vllm/vllm-openai:v0.10.1"}, metis=OLD_VLLM_CLIENT
    )
    assert vllm_command(valid(raw), "embedding")[-2:] == ["--runner", "pooling"]


def test_chat_gets_no_runner_flag(minimal_raw):
    command = vllm_command(valid(minimal_raw), "chat")
    assert "--runner" not in command
    assert "--task" not in command


def test_the_backend_key_is_never_on_the_command_line(minimal_raw):
    for service in SERVICES:
        assert not any("api-key" in arg for arg in vllm_command(valid(minimal_raw), service))


def test_quantization_is_passed_when_set(minimal_raw):
    raw = with_changes(minimal_raw, chat={"quantization": "fp8"})
    assert " --quantization fp8" in " ".join(vllm_command(valid(raw), "chat"))


def test_models_that_need_remote_code_get_it(minimal_raw):
    raw = with_changes(minimal_raw, embedding={"model": "nomic-ai/nomic-embed-text-v1.5"})
    assert "--trust-remote-code" in vllm_command(valid(raw), "embedding")
    assert "--trust-remote-code" not in vllm_command(valid(minimal_raw), "embedding")


def test_extra_args_come_last_verbatim(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--max-num-seqs", "64"]})
    assert vllm_command(valid(raw), "chat")[-2:] == ["--max-num-seqs", "64"]


def test_the_container_sees_its_gpu_range_in_host_order(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6e.12xlarge", "disk_gib": 250}},
        chat={"tensor_parallel_size": 2, "first_gpu": 2},
    )
    env = vllm_server(valid(raw), "chat").env
    assert env["CUDA_VISIBLE_DEVICES"] == "2,3"
    assert env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"


def test_weights_are_cached_where_the_host_volume_is_mounted(minimal_raw):
    assert vllm_server(valid(minimal_raw), "chat").env["HF_HOME"] == "/root/.cache/huggingface"


def test_chat_and_embedding_listen_on_different_ports(minimal_raw):
    settings = valid(minimal_raw)
    assert (vllm_server(settings, "chat").port, vllm_server(settings, "embedding").port) == (
        8000,
        8001,
    )


def test_the_embedding_server_on_the_chat_servers_gpu_starts_after_it(minimal_raw):
    settings = valid(minimal_raw)
    assert started_before(settings, "embedding", "gpu-1") == ["chat"]
    assert started_before(settings, "chat", "gpu-1") == []


def test_servers_on_separate_gpus_of_one_host_start_together(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6e.12xlarge", "disk_gib": 250}},
        embedding={"first_gpu": 1},
    )
    assert started_before(valid(raw), "embedding", "gpu-1") == []


def _flag(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def test_chat_answers_function_calls_with_its_familys_parser(minimal_raw):
    command = vllm_command(valid(minimal_raw), "chat")
    assert "--enable-auto-tool-choice" in command
    assert _flag(command, "--tool-call-parser") == "hermes"


def test_a_qwen3_coder_model_gets_the_qwen3_coder_parser(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6e.12xlarge", "disk_gib": 250}},
        chat={"model": "Qwen/Qwen3-Coder-30B-A3B-Instruct", "tensor_parallel_size": 2},
    )
    assert _flag(vllm_command(valid(raw), "chat"), "--tool-call-parser") == "qwen3_coder"


def test_the_call_arguments_are_pinned_to_the_schema_on_a_vllm_that_has_the_switch(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": "vllm/vllm-openai:v0.31.0"})
    assert _flag(vllm_command(valid(raw), "chat"), "--tool-strict-level") == "parameter"


def test_a_vllm_before_the_switch_gets_no_strict_level_flag(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": "vllm/vllm-openai:v0.30.0"})
    assert "--tool-strict-level" not in vllm_command(valid(raw), "chat")


def test_a_hybrid_thinking_model_has_thinking_turned_off(minimal_raw):
    raw = with_changes(minimal_raw, chat={"model": "Qwen/Qwen3-8B", "max_model_len": 16384})
    kwargs = _flag(vllm_command(valid(raw), "chat"), "--default-chat-template-kwargs")
    assert json.loads(kwargs) == {"enable_thinking": False}


def test_a_model_without_thinking_gets_no_template_kwargs(minimal_raw):
    assert "--default-chat-template-kwargs" not in vllm_command(valid(minimal_raw), "chat")


def test_the_embedding_server_gets_no_tool_call_flags(minimal_raw):
    command = vllm_command(valid(minimal_raw), "embedding")
    assert not any(arg.startswith("--tool") or "auto-tool" in arg for arg in command)


# Starting after the other server on the same GPU, at every boot


def test_a_waiting_server_keeps_the_images_own_command_line(minimal_raw):
    spec = vllm_server(valid(minimal_raw), "embedding")

    command = start_after_command(spec, ["http://10.0.0.5:8000/health"])

    assert command == ["http://10.0.0.5:8000/health", "--", "vllm", "serve", *spec.command]


def test_an_ngc_server_keeps_its_command_which_already_runs_vllm_serve(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": "nvcr.io/nvidia/vllm:25.09-py3", "vllm_version": "0.32.0"}
    )
    spec = vllm_server(valid(raw), "embedding")

    command = start_after_command(spec, ["http://10.0.0.5:8000/health"])

    assert command[2:4] == ["vllm", "serve"]
    assert command[2:] == spec.command


@pytest.mark.lint
def test_the_start_after_script_passes_shellcheck(tmp_path):
    result = shellcheck(f"#!/bin/sh\n{START_AFTER_SCRIPT}", tmp_path)
    assert result.returncode == 0, result.stdout


def run_entrypoint(urls: list[str], timeout: float) -> subprocess.CompletedProcess:
    """The container's entrypoint and command, with a stand-in for `vllm serve`."""
    argv = [*START_AFTER_ENTRYPOINT, *urls, "--", sys.executable, "-c", "print('serving')"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)


@pytest.mark.e2e
def test_the_server_starts_at_once_when_the_other_is_healthy():
    with FakeVllm("chat-model") as chat:
        done = run_entrypoint([f"http://{chat.host}:{chat.port}/health"], timeout=10)

    assert done.stdout == "serving\n"


@pytest.mark.e2e
def test_the_server_waits_while_the_other_does_not_answer_then_starts():
    chat = FakeVllm("chat-model")  # its port is reserved, refusing connections until start
    later = threading.Timer(1.0, chat.start)
    later.start()
    try:
        done = run_entrypoint([f"http://{chat.host}:{chat.port}/health"], timeout=30)
    finally:
        later.join()
        chat.stop()

    assert done.stdout == "serving\n"


@pytest.mark.e2e
def test_the_server_does_not_start_while_the_other_never_answers():
    chat = FakeVllm("chat-model")

    with pytest.raises(subprocess.TimeoutExpired):
        run_entrypoint([f"http://{chat.host}:{chat.port}/health"], timeout=3)

"""Validation: where services run (hosts, instance types, GPUs, ports)."""

import pytest

from tests.config_cases import problem_at, problems, valid, with_changes

BIG = {"instance_type": "g6e.12xlarge", "disk_gib": 250}  # 4 x 48 GiB


def test_unknown_host_in_chat_hosts_is_named_with_the_known_ones(minimal_raw):
    problem = problem_at(
        with_changes(minimal_raw, chat={"hosts": ["gpu-9"]}), "metis-llm:chat.hosts[0]"
    )
    assert problem.value == "gpu-9"
    assert "gpu-1" in problem.fix


def test_chat_on_a_declared_second_host_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, hosts={"gpu-1": {}, "gpu-9": {}}, chat={"hosts": ["gpu-9"]}))


def test_unknown_router_host_is_reported(minimal_raw):
    problem = problem_at(
        with_changes(minimal_raw, router={"host": "edge"}), "metis-llm:router.host"
    )
    assert problem.reason == "no host named 'edge' in metis-llm:hosts"
    assert problem.fix == "use one of gpu-1, or add 'edge' under metis-llm:hosts"


def test_a_host_listed_twice_for_a_service_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"hosts": ["gpu-1", "gpu-1"]})
    assert "once" in problem_at(raw, "metis-llm:chat.hosts[1]").fix


def test_two_replicas_on_two_hosts_are_valid(minimal_raw):
    valid(
        with_changes(
            minimal_raw, hosts={"gpu-1": {}, "gpu-2": {}}, chat={"hosts": ["gpu-1", "gpu-2"]}
        )
    )


def test_a_host_that_runs_nothing_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {}, "gpu-2": {}})
    problem = problem_at(raw, "metis-llm:hosts.gpu-2")
    assert problem.reason == "runs nothing (no chat, embedding or router) but would be billed"
    assert problem.fix == (
        "remove it, or list it in metis-llm:chat.hosts, embedding.hosts or router.host"
    )


def test_an_instance_type_missing_from_the_catalog_is_reported_with_a_suggestion(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"instance_type": "g6e.xlarg"}})
    problem = problem_at(raw, "metis-llm:hosts.gpu-1.instance_type")
    assert "did you mean g6e.xlarge" in problem.fix
    assert "metis-llm:catalog.instances" in problem.fix


def test_an_instance_type_described_in_the_stack_catalog_is_valid(minimal_raw):
    g7 = {"gpu_count": 1, "gib_per_gpu": 48, "vcpu": 4, "ram_gib": 32, "usd_per_hour": 2.0}
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g7.xlarge"}},
        catalog={"instances": {"g7.xlarge": g7}},
    )
    valid(raw)


def test_a_gpu_service_on_a_cpu_only_host_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"instance_type": "t3.medium", "disk_gib": 30}})
    for key in ("metis-llm:chat.hosts[0]", "metis-llm:embedding.hosts[0]"):
        problem = problem_at(raw, key)
        assert problem.reason == "gpu-1 is a t3.medium with no GPU, and vLLM needs one"
        assert problem.fix == (
            "put the service on a GPU host (a CPU-only host can carry the router alone)"
        )


def test_a_router_alone_on_a_cpu_only_host_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": {}, "edge": {"instance_type": "t3.medium", "disk_gib": 30}}
    )
    raw["router"]["host"] = "edge"
    valid(raw)


def test_tensor_parallel_size_must_be_a_power_of_two(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": BIG}, chat={"tensor_parallel_size": 3})
    problem = problem_at(raw, "metis-llm:chat.tensor_parallel_size")
    assert "power of two" in problem.reason
    assert "2 or 4" in problem.fix


def test_tensor_parallel_size_four_on_four_gpus_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, hosts={"gpu-1": BIG}, chat={"tensor_parallel_size": 4}))


def test_tensor_parallel_size_must_divide_the_attention_heads(minimal_raw):
    # Qwen2.5-Coder-7B has 28 heads: 8 does not divide them.
    eight_gpus = {"instance_type": "g6e.48xlarge", "disk_gib": 250}
    raw = with_changes(minimal_raw, hosts={"gpu-1": eight_gpus}, chat={"tensor_parallel_size": 8})
    assert "28 attention heads" in problem_at(raw, "metis-llm:chat.tensor_parallel_size").reason


def test_tensor_parallel_size_beyond_the_hosts_gpus_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"tensor_parallel_size": 2})
    problem = problem_at(raw, "metis-llm:chat.tensor_parallel_size")
    assert "1 GPU" in problem.reason
    assert "at most 1" in problem.fix


def test_a_gpu_range_past_the_last_gpu_is_reported(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": BIG}, chat={"tensor_parallel_size": 4, "first_gpu": 2}
    )
    assert "at most 0" in problem_at(raw, "metis-llm:chat.first_gpu").fix


def test_a_gpu_range_within_the_host_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": BIG},
        chat={"tensor_parallel_size": 2, "first_gpu": 2},
    )
    valid(raw)


def test_services_sharing_a_gpu_above_095_in_total_are_reported(minimal_raw):
    raw = with_changes(minimal_raw, embedding={"gpu_memory_utilization": 0.20})
    problem = problem_at(raw, "metis-llm:embedding.gpu_memory_utilization")
    assert "1.00" in problem.reason
    assert "0.15" in problem.fix


def test_services_sharing_a_gpu_at_095_in_total_are_valid(minimal_raw):
    valid(with_changes(minimal_raw, embedding={"gpu_memory_utilization": 0.15}))


def test_services_on_different_gpus_of_a_host_do_not_share_memory(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": BIG},
        chat={"gpu_memory_utilization": 0.90},
        embedding={"gpu_memory_utilization": 0.50, "first_gpu": 3},
    )
    valid(raw)


SMALL_CHAT = {
    "kind": "chat", "params_b": 1.5, "layers": 28, "attention_heads": 12, "kv_heads": 2,
    "head_dim": 128, "context": 32768, "tool_calling": {"parser": "hermes"},
}  # fmt: skip


def test_bfloat16_on_a_gpu_without_it_is_reported(minimal_raw):
    t4 = {"instance_type": "g4dn.xlarge", "disk_gib": 160}
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": t4},
        chat={"model": "org/small-chat", "max_model_len": 4096, "dtype": "bfloat16"},
        embedding={"gpu_memory_utilization": 0.12},
        catalog={"models": {"org/small-chat": SMALL_CHAT}},
    )
    assert "T4" in problem_at(raw, "metis-llm:chat.dtype").reason
    raw["chat"]["dtype"] = "float16"
    valid(raw)


def test_router_port_taken_by_a_colocated_vllm_server_is_reported(minimal_raw):
    problem = problem_at(with_changes(minimal_raw, router={"port": 8000}), "metis-llm:router.port")
    assert problem.reason == "port 8000 is a vLLM port (8000, 8001), open only within the stack"
    assert problem.fix == "use another port, e.g. 8888"


@pytest.mark.parametrize("port", [8000, 8001])
def test_a_vllm_port_is_refused_for_the_router_even_on_a_host_without_vllm(minimal_raw, port):
    edge = {"instance_type": "t3.medium", "disk_gib": 30}
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": {}, "edge": edge}, router={"host": "edge", "port": port}
    )
    assert "a vLLM port" in problem_at(raw, "metis-llm:router.port").reason


def test_another_router_port_on_its_own_host_is_valid(minimal_raw):
    edge = {"instance_type": "t3.medium", "disk_gib": 30}
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": {}, "edge": edge}, router={"host": "edge", "port": 8002}
    )
    valid(raw)


def test_every_problem_is_reported_at_once(minimal_raw):
    raw = with_changes(
        minimal_raw,
        chat={"hosts": ["nowhere"]},
        router={"allowed_cidrs": ["0.0.0.0/0"]},
        images={"vllm": "vllm/vllm-openai:latest"},
    )
    keys = {problem.key for problem in problems(raw)}
    assert {
        "metis-llm:chat.hosts[0]",
        "metis-llm:router.allowed_cidrs[0]",
        "metis-llm:images.vllm",
    } <= keys

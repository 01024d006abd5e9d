"""Validation: models, their memory, windows, dimensions and vLLM flags."""

from tests.config_cases import problem_at, valid, with_changes

L4 = {"instance_type": "g6.xlarge", "disk_gib": 160}  # 1 x 22.5 GiB usable


def test_a_model_that_does_not_fit_names_the_cheapest_instance_where_it_does(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": L4}, chat={"model": "Qwen/Qwen2.5-Coder-14B-Instruct"}
    )
    problem = problem_at(raw, "metis-llm:chat.model")
    assert "GiB per GPU" in problem.reason
    assert "use g6e.xlarge for gpu-1" in problem.fix


def test_the_same_model_on_that_instance_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": {"instance_type": "g6e.xlarge"}},
        chat={"model": "Qwen/Qwen2.5-Coder-14B-Instruct"},
    )
    valid(raw)


def test_a_kv_cache_that_does_not_fit_names_a_max_model_len_that_does(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": L4}, chat={"gpu_memory_utilization": 0.75})
    assert "lower max_model_len to 22528" in problem_at(raw, "metis-llm:chat.model").fix


def test_that_max_model_len_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw,
        hosts={"gpu-1": L4},
        chat={"gpu_memory_utilization": 0.75, "max_model_len": 22528},
    )
    valid(raw)


def test_a_chat_model_where_an_embedding_model_belongs_is_reported(minimal_raw):
    raw = with_changes(
        minimal_raw, embedding={"model": "Qwen/Qwen3-8B", "dimension": 4096, "max_model_len": 512}
    )
    assert "chat model" in problem_at(raw, "metis-llm:embedding.model").reason


def test_chat_max_model_len_above_the_model_context_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"max_model_len": 65536})
    assert "at most 32768" in problem_at(raw, "metis-llm:chat.max_model_len").fix


def test_embedding_max_model_len_above_the_model_window_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, embedding={"max_model_len": 1024})
    assert "at most 512" in problem_at(raw, "metis-llm:embedding.max_model_len").fix


def test_a_shorter_max_model_len_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, chat={"max_model_len": 8192}, embedding={"max_model_len": 256}))


def test_an_embedding_dimension_other_than_the_catalogs_is_reported(minimal_raw):
    problem = problem_at(
        with_changes(minimal_raw, embedding={"dimension": 1024}), "metis-llm:embedding.dimension"
    )
    assert "768" in problem.fix


def test_the_catalog_dimension_given_explicitly_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, embedding={"dimension": 768}))


def test_an_unknown_embedding_model_needs_its_dimension(minimal_raw):
    raw = with_changes(minimal_raw, embedding={"model": "org/new-embedder", "max_model_len": 512})
    problem = problem_at(raw, "metis-llm:embedding.dimension")
    assert "not in the catalog" in problem.fix


def test_an_unknown_embedding_model_with_dimension_and_window_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw, embedding={"model": "org/new-embedder", "max_model_len": 512, "dimension": 640}
    )
    assert valid(raw).embedding.dimension == 640


def test_an_unknown_chat_model_needs_its_max_model_len(minimal_raw):
    problem_at(
        with_changes(minimal_raw, chat={"model": "org/new-chat"}), "metis-llm:chat.max_model_len"
    )


def test_chat_and_embedding_sharing_a_served_name_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"served_name": "m"}, embedding={"served_name": "m"})
    problem = problem_at(raw, "metis-llm:embedding.served_name")
    assert problem.reason == (
        "the chat and embedding services would share one model name at the router"
    )
    assert problem.fix == "give them different served names"


def test_a_gated_model_without_a_hugging_face_token_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"model": "meta-llama/Llama-3.1-8B-Instruct"})
    problem = problem_at(raw, "metis-llm:hf_token")
    assert "pulumi config set --secret metis-llm:hf_token" in problem.fix


def test_a_gated_model_with_a_token_is_valid(minimal_raw):
    valid(
        with_changes(minimal_raw, chat={"model": "meta-llama/Llama-3.1-8B-Instruct"}),
        has_hf_token=True,
    )


def test_a_disk_too_small_for_ami_images_and_weights_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"disk_gib": 80}})
    assert "set it to 160 or more" in problem_at(raw, "metis-llm:hosts.gpu-1.disk_gib").fix


def test_that_disk_size_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, hosts={"gpu-1": {"disk_gib": 160}}))


def test_the_disk_holds_two_versions_of_each_image_during_an_image_update(minimal_raw):
    raw = with_changes(minimal_raw, hosts={"gpu-1": {"disk_gib": 130}})
    problem = problem_at(raw, "metis-llm:hosts.gpu-1.disk_gib")
    assert "images (56: old and new version during an image update)" in problem.reason


def test_an_api_key_in_extra_args_is_refused(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--api-key", "abc"]})
    problem = problem_at(raw, "metis-llm:chat.extra_args[0]")
    assert "environment" in problem.fix


def test_a_flag_the_project_manages_is_refused_in_its_equals_form(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["--max-model-len=4096"]})
    assert "max_model_len instead" in problem_at(raw, "metis-llm:chat.extra_args[0]").fix


def test_a_value_without_a_flag_in_extra_args_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"extra_args": ["4096"]})
    problem = problem_at(raw, "metis-llm:chat.extra_args[0]")
    assert problem.reason == "a value with no flag before it"
    assert problem.fix == "give flags as ['--flag', 'value'] or ['--flag=value']"


def test_other_vllm_flags_pass_through(minimal_raw):
    valid(
        with_changes(
            minimal_raw, chat={"extra_args": ["--enable-prefix-caching", "--max-num-seqs", "64"]}
        )
    )


def test_gpu_memory_is_what_the_driver_reports_not_the_marketed_size(minimal_raw):
    instances = valid(minimal_raw).catalog.instances
    assert instances["g6.xlarge"].gib_per_gpu * 1024 == 23034
    assert instances["g6e.xlarge"].gib_per_gpu * 1024 == 46068


def test_a_model_that_fits_a_marketed_24_gib_but_not_an_l4s_usable_memory_is_refused(minimal_raw):
    raw = with_changes(
        minimal_raw, hosts={"gpu-1": L4}, chat={"model": "Qwen/Qwen3-8B", "max_model_len": 16384}
    )
    problem = problem_at(raw, "metis-llm:chat.model")
    assert "needs ~19.0 GiB per GPU" in problem.reason
    assert "gets 0.8 x 22.5 GiB = 18.0 GiB on gpu-1 (g6.xlarge)" in problem.reason

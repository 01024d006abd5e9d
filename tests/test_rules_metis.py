"""Validation: the rendered metis.yaml fits the models behind the router."""

from tests.config_cases import problem_at, valid, with_changes


def test_doc_chunks_larger_than_the_embedding_window_allows_are_reported(minimal_raw):
    raw = with_changes(minimal_raw, metis={"doc_chunk_size": 500})
    assert "at most 448" in problem_at(raw, "metis-llm:metis.doc_chunk_size").fix


def test_doc_chunks_within_the_window_are_valid(minimal_raw):
    valid(with_changes(minimal_raw, metis={"doc_chunk_size": 448, "doc_chunk_overlap": 64}))


def test_an_overlap_not_smaller_than_the_chunk_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, metis={"doc_chunk_size": 256, "doc_chunk_overlap": 256})
    problem = problem_at(raw, "metis-llm:metis.doc_chunk_overlap")
    assert problem.reason == "not smaller than doc_chunk_size (256)"
    assert problem.fix == "use at most 64, or leave it out to derive it"


def test_a_metis_context_window_beyond_the_chat_max_model_len_is_reported(minimal_raw):
    raw = with_changes(
        minimal_raw, chat={"max_model_len": 16384}, metis={"max_token_length": 32768}
    )
    assert "at most 16384" in problem_at(raw, "metis-llm:metis.max_token_length").fix


def test_a_metis_context_window_within_max_model_len_is_valid(minimal_raw):
    valid(with_changes(minimal_raw, metis={"max_token_length": 16000}))


def test_query_max_tokens_filling_the_whole_window_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, chat={"max_model_len": 4096}, metis={"query_max_tokens": 4096})
    problem = problem_at(raw, "metis-llm:metis.query_max_tokens")
    assert problem.reason == "leaves no room for the prompt in the chat model's 4096-token window"
    assert problem.fix == "use well under 4096, e.g. 1024"


def test_an_unknown_metis_version_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, metis={"version": "2.0"})
    problem = problem_at(raw, "metis-llm:metis.version")
    assert problem.reason == "input should be '1.0', '1.1', '1.2', '1.3', '1.4' or '1.5'"
    assert problem.fix == "use one of the values named"

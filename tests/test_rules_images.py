"""Validation: images are pinned, the vLLM image's form is known, LiteLLM is safe."""

import pytest

from tests.config_cases import problem_at, valid, with_changes

DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    "reference",
    [
        "vllm/vllm-openai:latest",
        "vllm/vllm-openai:main",
        "vllm/vllm-openai:nightly",
        "vllm/vllm-openai",
    ],
)
def test_a_rolling_or_missing_vllm_tag_is_reported(minimal_raw, reference):
    problem = problem_at(
        with_changes(minimal_raw, images={"vllm": reference}), "metis-llm:images.vllm"
    )
    assert "rolling or missing tag" in problem.reason


@pytest.mark.parametrize(
    "reference",
    [
        "ghcr.io/berriai/litellm:main-latest",
        "ghcr.io/berriai/litellm:main-stable",
        "ghcr.io/berriai/litellm:main",
        "ghcr.io/berriai/litellm:latest",
        "ghcr.io/berriai/litellm:lts",
        "ghcr.io/berriai/litellm",
    ],
)
def test_a_rolling_or_missing_litellm_tag_is_reported(minimal_raw, reference):
    problem_at(with_changes(minimal_raw, images={"litellm": reference}), "metis-llm:images.litellm")


def test_a_text_that_is_no_image_reference_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": "Not An Image"})
    assert problem_at(raw, "metis-llm:images.vllm").reason == "not an image reference"


def test_a_vllm_digest_with_the_vllm_version_given_is_valid(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": f"vllm/vllm-openai@{DIGEST}", "vllm_version": "0.32.0"}
    )
    valid(raw)


def test_a_vllm_digest_alone_needs_the_vllm_version(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": f"vllm/vllm-openai@{DIGEST}"})
    problem_at(raw, "metis-llm:images.vllm_version")


def test_an_ngc_image_needs_the_vllm_version_it_ships(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": "nvcr.io/nvidia/vllm:26.06-py3"})
    problem_at(raw, "metis-llm:images.vllm_version")
    raw["images"]["vllm_version"] = "0.32.0"
    valid(raw)


def test_an_unknown_vllm_repository_needs_its_command_form(minimal_raw):
    mirror = "registry.example.com/mirror/vllm-openai:v0.32.0"
    raw = with_changes(minimal_raw, images={"vllm": mirror})
    problem_at(raw, "metis-llm:images.vllm_kind")
    raw["images"]["vllm_kind"] = "vllm-openai"
    valid(raw)


def test_a_vllm_without_the_responses_api_is_refused_for_metis_15(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": "vllm/vllm-openai:v0.9.2"})
    assert "/v1/responses" in problem_at(raw, "metis-llm:images.vllm").reason


def test_that_vllm_is_accepted_for_metis_13_which_uses_chat_completions(minimal_raw):
    valid(
        with_changes(
            minimal_raw, images={"vllm": "vllm/vllm-openai:v0.9.2"}, metis={"version": "1.3"}
        )
    )


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("v1.82.7", "malicious"),
        ("v1.82.8", "malicious"),
        ("v1.107.0", "withdrawn"),
        ("v1.83.10-stable", "predates 1.84.0"),
        ("main-v1.60.0-stable", "predates 1.84.0"),
    ],
)
def test_an_unsafe_litellm_release_is_refused(minimal_raw, tag, why):
    raw = with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:{tag}"})
    assert why in problem_at(raw, "metis-llm:images.litellm").reason


@pytest.mark.parametrize("tag", ["v1.84.0", "v1.108.7", "v1.110.1"])
def test_a_litellm_release_from_184_on_is_accepted(minimal_raw, tag):
    valid(with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:{tag}"}))


def test_a_litellm_digest_without_its_version_tag_is_reported(minimal_raw):
    raw = with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm@{DIGEST}"})
    assert "version tag" in problem_at(raw, "metis-llm:images.litellm").fix


def test_a_litellm_version_tag_with_its_digest_is_valid(minimal_raw):
    valid(
        with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:v1.108.7@{DIGEST}"})
    )

"""Validation: images are pinned, the vLLM image's form is known, LiteLLM is safe."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.images import LITELLM_TAGS, VLLM_TAGS
from config.rules.images import DEFAULTS
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
    assert "would change under the stack" in problem.reason


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
    raw = with_changes(minimal_raw, images={"litellm": reference})
    problem = problem_at(raw, "metis-llm:images.litellm")
    assert problem.reason.endswith("what runs would change under the stack")
    assert problem.fix.startswith(("pin a release tag (v1.108.7, ", "pin an exact version, e.g."))


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
    assert "release tag beside the digest" in problem_at(raw, "metis-llm:images.litellm").fix


def test_a_litellm_version_tag_with_its_digest_is_valid(minimal_raw):
    valid(
        with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:v1.108.7@{DIGEST}"})
    )


# Versions read the way each publisher tags releases


@pytest.mark.parametrize(
    "tag",
    ["py3.13-v1.82.7", "latest-v1.108.7", "1.108.7", "v1.108", "sha-v1.108.7", "main-py3-v1.90.0"],
)
def test_a_litellm_tag_whose_release_cannot_be_read_is_refused(minimal_raw, tag):
    raw = with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:{tag}"})
    problem = problem_at(raw, "metis-llm:images.litellm")
    assert f"the tag {tag} names no release" in problem.reason
    assert "v1.108.7-stable" in problem.fix


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("main-v1.82.7-stable", "malicious"),
        ("v1.82.8-nightly", "malicious"),
        ("v1.82.7.rc.1", "malicious"),
        ("v1.107.3-stable.1", "withdrawn"),
    ],
)
def test_a_bad_litellm_release_is_refused_in_every_tag_form(minimal_raw, tag, why):
    raw = with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:{tag}"})
    assert why in problem_at(raw, "metis-llm:images.litellm").reason


@pytest.mark.parametrize("tag", ["v1.108.7-stable", "v1.108.7-stable.1", "main-v1.108.7-stable"])
def test_litellm_release_tags_of_a_safe_release_are_valid(minimal_raw, tag):
    valid(with_changes(minimal_raw, images={"litellm": f"ghcr.io/berriai/litellm:{tag}"}))


@pytest.mark.parametrize(
    "tag", ["0.32.0", "v0.32", "cu129-v0.32.0", "v0.32.0-nightly", "py3-v0.32.0"]
)
def test_a_vllm_tag_whose_release_cannot_be_read_is_refused(minimal_raw, tag):
    raw = with_changes(minimal_raw, images={"vllm": f"vllm/vllm-openai:{tag}"})
    assert "v0.32.0" in problem_at(raw, "metis-llm:images.vllm").fix


@pytest.mark.parametrize("tag", ["v0.32.0", "v0.10.1.1", "v0.21.0-cu129"])
def test_vllm_release_tags_are_valid(minimal_raw, tag):
    # Metis 1.3: its chat path does not need the review path of newer vLLMs.
    raw = with_changes(
        minimal_raw, images={"vllm": f"vllm/vllm-openai:{tag}"}, metis={"version": "1.3"}
    )
    valid(raw)


def test_an_unreadable_vllm_tag_with_a_digest_and_the_version_given_is_valid(minimal_raw):
    image = f"vllm/vllm-openai:nightly@{DIGEST}"
    valid(with_changes(minimal_raw, images={"vllm": image, "vllm_version": "0.32.0"}))


def test_an_unreadable_vllm_tag_with_a_digest_needs_the_version(minimal_raw):
    raw = with_changes(minimal_raw, images={"vllm": f"vllm/vllm-openai:nightly@{DIGEST}"})
    problem_at(raw, "metis-llm:images.vllm_version")


def test_a_vllm_version_contradicting_the_tag_is_refused(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": "vllm/vllm-openai:v0.32.0", "vllm_version": "0.9.2"}
    )
    assert "says vLLM 0.32.0" in problem_at(raw, "metis-llm:images.vllm_version").reason


def test_an_ngc_tag_that_is_no_container_release_is_refused(minimal_raw):
    raw = with_changes(
        minimal_raw, images={"vllm": "nvcr.io/nvidia/vllm:latest", "vllm_version": "0.32.0"}
    )
    assert "25.09-py3" in problem_at(raw, "metis-llm:images.vllm").fix


@pytest.mark.parametrize("field", ["vllm", "litellm"])
@pytest.mark.parametrize("padding", [" {}", "{} ", "{}\n", "\t{}"])
def test_an_image_with_spaces_around_it_is_refused(minimal_raw, field, padding):
    image = padding.format(DEFAULTS[field])
    problem = problem_at(
        with_changes(minimal_raw, images={field: image}), f"metis-llm:images.{field}"
    )
    assert problem.reason.startswith("has spaces or line breaks around it")
    assert DEFAULTS[field] in problem.fix


# Property: a release version is only ever read from where the publisher puts it


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(
        alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=12
    ).filter(lambda p: p not in ("v", "main-v") and not p.startswith(("v", "main-v"))),
    version=st.tuples(*[st.integers(0, 999)] * 3),
)
def test_a_version_anywhere_but_at_the_start_of_a_tag_is_never_read(prefix, version):
    tag = f"{prefix}v{'.'.join(map(str, version))}"
    assert LITELLM_TAGS.version(tag) is None
    assert VLLM_TAGS.version(tag) is None


@settings(max_examples=200, deadline=None)
@given(
    version=st.tuples(*[st.integers(0, 9999)] * 3),
    channel=st.sampled_from(["", "-stable", "-nightly", "-stable.1", ".rc.1", "-dev"]),
    main=st.booleans(),
)
def test_every_litellm_release_tag_reads_as_its_version(version, channel, main):
    tag = f"{'main-' if main else ''}v{'.'.join(map(str, version))}{channel}"
    assert LITELLM_TAGS.version(tag) == version

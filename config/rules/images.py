"""Images: pinned exact versions read the way each publisher tags them, a known vLLM command
form, a safe LiteLLM release."""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import NOT_SET, Problem, config_key
from config.images import (
    DEFAULT_LITELLM_IMAGE,
    DEFAULT_VLLM_IMAGE,
    LITELLM_MIN_VERSION,
    LITELLM_TAGS,
    RESPONSES_API_SINCE,
    ImageRef,
    TagScheme,
    format_version,
    litellm_version_problem,
    parse_version,
)
from config.settings import Settings

DEFAULTS = {"vllm": DEFAULT_VLLM_IMAGE, "litellm": DEFAULT_LITELLM_IMAGE}


def _tag_scheme(s: Settings, field: str) -> TagScheme | None:
    if field == "litellm":
        return LITELLM_TAGS
    kind = s.images.vllm_image_kind
    return kind.tags if kind else None


def pinned_images(s: Settings) -> Iterator[Problem]:
    for field, default in DEFAULTS.items():
        text = getattr(s.images, field)
        key = config_key("images", field)
        if text != text.strip():
            yield Problem(
                key,
                text,
                "has spaces or line breaks around it, which would be deployed as written",
                f"write {text.strip()!r}",
            )
            continue
        ref = ImageRef.parse(text)
        if ref is None:
            yield Problem(key, text, "not an image reference", f"use e.g. {default}")
            continue
        scheme = _tag_scheme(s, field)
        if scheme is None or ref.pinned(scheme):
            continue
        if ref.tag is None:
            yield Problem(
                key,
                text,
                "no tag: what runs would change under the stack",
                f"pin an exact version, e.g. {default} (optionally with @sha256:<digest>)",
            )
        else:
            yield Problem(
                key,
                text,
                f"the tag {ref.tag} names no release (a rolling tag, or one whose version "
                "cannot be read): what runs would change under the stack",
                f"pin a release tag ({scheme.examples}), optionally with @sha256:<digest>",
            )


def vllm_image(s: Settings) -> Iterator[Problem]:
    ref = s.images.vllm_ref
    if ref is None:
        return
    kind = s.images.vllm_image_kind
    if kind is None:
        yield Problem(
            config_key("images", "vllm_kind"),
            NOT_SET,
            f"{ref.repository} is not a vLLM image this project knows, so its command form "
            "is unknown",
            "set it to vllm-openai (ENTRYPOINT is `vllm serve`) or ngc (no vLLM entrypoint)",
        )
        return
    if not ref.pinned(kind.tags):
        return
    tagged = ref.release_version(kind.tags)
    given = parse_version(s.images.vllm_version) if s.images.vllm_version else None
    if tagged and given and tagged != given:
        yield Problem(
            config_key("images", "vllm_version"),
            s.images.vllm_version,
            f"the tag of {s.images.vllm} says vLLM {format_version(tagged)}",
            "leave it out (the tag says it), or fix the one that is wrong",
        )
        return
    version = given or tagged
    if version is None:
        yield Problem(
            config_key("images", "vllm_version"),
            NOT_SET,
            f"the vLLM version inside {s.images.vllm} cannot be read from its tag (vLLM "
            f"release tags look like {kind.tags.examples}), and the embedding runner flag "
            "depends on it",
            "set it to the image's vLLM version, e.g. 0.10.1",
        )
    elif version < RESPONSES_API_SINCE and s.metis.version in ("1.4", "1.5"):
        yield Problem(
            config_key("images", "vllm"),
            s.images.vllm,
            f"vLLM {format_version(version)} has no /v1/responses, which Metis "
            f"{s.metis.version} calls for chat",
            f"use vLLM {format_version(RESPONSES_API_SINCE)} or newer, e.g. {DEFAULT_VLLM_IMAGE}",
        )


def litellm_image(s: Settings) -> Iterator[Problem]:
    ref = s.images.litellm_ref
    if ref is None or not ref.pinned(LITELLM_TAGS):
        return
    fix = f"use {DEFAULT_LITELLM_IMAGE} or another release >= {format_version(LITELLM_MIN_VERSION)}"
    version = ref.release_version(LITELLM_TAGS)
    if version is None:
        yield Problem(
            config_key("images", "litellm"),
            s.images.litellm,
            "the LiteLLM version cannot be read from the reference, and known-bad releases "
            "are refused by it",
            f"keep the release tag beside the digest, e.g. {DEFAULT_LITELLM_IMAGE}@sha256:<digest>",
        )
    elif (why := litellm_version_problem(version)) is not None:
        yield Problem(config_key("images", "litellm"), s.images.litellm, why, fix)


RULES = (pinned_images, vllm_image, litellm_image)

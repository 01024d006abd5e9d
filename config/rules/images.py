"""Images: pinned exact versions, a known vLLM command form, a safe LiteLLM release."""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import NOT_SET, Problem, config_key
from config.images import (
    DEFAULT_LITELLM_IMAGE,
    DEFAULT_VLLM_IMAGE,
    LITELLM_MIN_VERSION,
    RESPONSES_API_SINCE,
    ImageRef,
    format_version,
    litellm_version_problem,
)
from config.settings import Settings

DEFAULTS = {"vllm": DEFAULT_VLLM_IMAGE, "litellm": DEFAULT_LITELLM_IMAGE}


def pinned_images(s: Settings) -> Iterator[Problem]:
    for field, default in DEFAULTS.items():
        text = getattr(s.images, field)
        ref = ImageRef.parse(text)
        if ref is None:
            yield Problem(
                config_key("images", field),
                text,
                "not an image reference",
                f"use e.g. {default}",
            )
        elif not ref.pinned:
            yield Problem(
                config_key("images", field),
                text,
                "a rolling or missing tag: what runs would change under the stack",
                f"pin an exact version, e.g. {default} (optionally with @sha256:<digest>)",
            )


def vllm_image(s: Settings) -> Iterator[Problem]:
    ref = s.images.vllm_ref
    if ref is None or not ref.pinned:
        return
    if s.images.vllm_image_kind is None:
        yield Problem(
            config_key("images", "vllm_kind"),
            NOT_SET,
            f"{ref.repository} is not a vLLM image this project knows, so its command form "
            "is unknown",
            "set it to vllm-openai (ENTRYPOINT is `vllm serve`) or ngc (no vLLM entrypoint)",
        )
        return
    version = s.images.vllm_version_in_image
    if version is None:
        yield Problem(
            config_key("images", "vllm_version"),
            NOT_SET,
            f"the vLLM version inside {s.images.vllm} cannot be read from its tag, and the "
            "embedding runner flag depends on it",
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
    if ref is None or not ref.pinned:
        return
    fix = f"use {DEFAULT_LITELLM_IMAGE} or another release >= {format_version(LITELLM_MIN_VERSION)}"
    if ref.version is None:
        yield Problem(
            config_key("images", "litellm"),
            s.images.litellm,
            "the LiteLLM version cannot be read from the reference",
            f"keep the version tag beside the digest, e.g. {DEFAULT_LITELLM_IMAGE}@sha256:<digest>",
        )
    elif (why := litellm_version_problem(ref.version)) is not None:
        yield Problem(config_key("images", "litellm"), s.images.litellm, why, fix)


RULES = (pinned_images, vllm_image, litellm_image)

"""Container image references: parsing, pinning rules and what each vLLM image needs.

Images are data: a reference says which repository, which exact version (tag and/or
digest), and, for vLLM, which command form the image expects and which vLLM it ships.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_VLLM_IMAGE = "vllm/vllm-openai:v0.32.0"
DEFAULT_LITELLM_IMAGE = "ghcr.io/berriai/litellm:v1.108.7"

_REFERENCE = re.compile(
    r"^(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+(?=/))?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    """The first `X.Y[.Z]` in a text (`v1.108.7-stable` -> (1, 108, 7)), or None."""
    match = _VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference such as `ghcr.io/berriai/litellm:v1.108.7@sha256:...`."""

    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, reference: str) -> ImageRef | None:
        """The parsed reference, or None when the text is not an image reference."""
        match = _REFERENCE.match(reference.strip())
        if match is None:
            return None
        repository = match["repository"]
        for implicit in ("docker.io/library/", "docker.io/", "index.docker.io/"):
            repository = repository.removeprefix(implicit)
        return cls(repository=repository, tag=match["tag"], digest=match["digest"])

    @property
    def version(self) -> Version | None:
        return parse_version(self.tag) if self.tag else None

    @property
    def pinned(self) -> bool:
        """Pinned to a digest, or to a tag that names an exact version (never a rolling tag
        such as `latest`, `main`, `main-latest`, `main-stable`, `stable`, `lts`, `nightly`)."""
        return self.digest is not None or self.version is not None

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


VllmKind = Literal["vllm-openai", "ngc"]


@dataclass(frozen=True)
class VllmImageKind:
    """How a family of vLLM images is started."""

    command_prefix: tuple[str, ...]
    """What precedes the model in the container command: the vllm/vllm-openai ENTRYPOINT is
    already `vllm serve` (repeating it fails); NGC images have no vLLM entrypoint."""
    tag_is_vllm_version: bool
    """Whether the tag is the vLLM version (NGC tags are container releases, e.g. 25.09-py3)."""


VLLM_IMAGE_KINDS: dict[VllmKind, VllmImageKind] = {
    "vllm-openai": VllmImageKind(command_prefix=(), tag_is_vllm_version=True),
    "ngc": VllmImageKind(command_prefix=("vllm", "serve"), tag_is_vllm_version=False),
}
KNOWN_VLLM_REPOSITORIES: dict[str, VllmKind] = {
    "vllm/vllm-openai": "vllm-openai",
    "nvcr.io/nvidia/vllm": "ngc",
}

POOLING_RUNNER_SINCE: Version = (0, 10, 1)
"""vLLM serves embeddings with `--runner pooling` from here on; before, with `--task embed`
(which 0.13 rejects)."""
RESPONSES_API_SINCE: Version = (0, 10, 0)
"""First vLLM with `/v1/responses`, which Metis >= 1.4 calls for chat."""
REVIEW_FUNCTION_CALLS_SINCE: Version = (0, 25, 1)
"""Earliest vLLM whose forced function calls on `/v1/responses` this project has read in the
code (docs/reference/vllm-tool-calling.md): Metis >= 1.4 reviews through them. Older releases
may answer them with text, which Metis reports as "no findings"."""
CHAT_TEMPLATE_KWARGS_SINCE: Version = REVIEW_FUNCTION_CALLS_SINCE
"""`--default-chat-template-kwargs` (vLLM PR #31343, Dec 2025), in every release read since."""
TOOL_STRICT_LEVEL_SINCE: Version = (0, 31, 0)
"""`--tool-strict-level` (vLLM PR #56268). From here on, a tool without `strict: true` (Metis
sends none) gets its call forced but its arguments left free unless the level is
`parameter`; before, the arguments followed the tool's schema anyway."""

LITELLM_MIN_VERSION: Version = (1, 84, 0)
"""Proxy CVEs (among them a host-header auth bypass) are fixed up to 1.84.0."""
LITELLM_KNOWN_BAD: dict[str, str] = {
    "1.82.7": "a malicious release (credential stealer published to PyPI in March 2026)",
    "1.82.8": "a malicious release (credential stealer published to PyPI in March 2026)",
    "1.107": "a release line withdrawn after a reported compromise (no 1.107.x is on PyPI)",
}


def litellm_version_problem(version: Version) -> str | None:
    """Why a LiteLLM version must not be deployed, or None when it may."""
    text = format_version(version)
    for bad, why in LITELLM_KNOWN_BAD.items():
        if text == bad or text.startswith(bad + "."):
            return f"LiteLLM {text} is {why}"
    if version < LITELLM_MIN_VERSION:
        minimum = format_version(LITELLM_MIN_VERSION)
        return f"LiteLLM {text} predates {minimum}, which fixes known proxy CVEs"
    return None

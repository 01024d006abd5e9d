"""Container image references: parsing, how each registry tags its releases, pinning rules
and what each vLLM image needs.

Images are data: a reference says which repository, which exact version (tag and/or
digest), and, for vLLM, which command form the image expects and which vLLM it ships.
A release version is read the way the image's publisher tags releases (`TagScheme`), from
the start of the tag, never picked out of the middle of it (`py3.13-v1.82.7` is not
version 3.13). The policy pack imports this module from the project: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_VLLM_IMAGE = "vllm/vllm-openai:v0.32.0"
DEFAULT_LITELLM_IMAGE = "ghcr.io/berriai/litellm:v1.108.7"
DEFAULT_PROMETHEUS_IMAGE = "prom/prometheus:v3.13.2"
"""3.13 is a long-term support release, supported until July 2027 (docs/reference/
observability.md)."""
DEFAULT_GRAFANA_IMAGE = "grafana/grafana:13.2.0"
DEFAULT_NODE_EXPORTER_IMAGE = "prom/node-exporter:v1.10.0"
DEFAULT_DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"

_REFERENCE = re.compile(
    r"^(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+(?=/))?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    """`X.Y[.Z]`, the whole text (`0.10.1` -> (0, 10, 1)), or None."""
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


@dataclass(frozen=True)
class TagScheme:
    """How a publisher tags its image releases (docs/reference/image-tags.md)."""

    pattern: re.Pattern[str]
    """A release tag, whole; its `version` group, when it has one, is the software's X.Y.Z."""
    examples: str

    def is_release(self, tag: str) -> bool:
        return self.pattern.fullmatch(tag) is not None

    def version(self, tag: str) -> Version | None:
        """The software's version a release tag names, or None (not a release tag, or a
        scheme whose tags are no software version)."""
        match = self.pattern.fullmatch(tag)
        if match is None or "version" not in self.pattern.groupindex:
            return None
        return parse_version(match["version"])


VLLM_TAGS = TagScheme(
    re.compile(
        r"v(?P<version>\d{1,4}\.\d{1,4}\.\d{1,4})(?:\.\d{1,4}|\.post\d{1,4})?(?:-cu\d{2,4})?"
    ),
    "v0.32.0, v0.10.1.1, v0.21.0-cu129",
)
"""vllm/vllm-openai on Docker Hub: `v` and the vLLM release, a CUDA variant suffix."""
LITELLM_TAGS = TagScheme(
    re.compile(
        r"(?:main-)?v(?P<version>\d{1,4}\.\d{1,4}\.\d{1,4})"
        r"(?:[-.](?:stable|nightly|rc|dev|patch|hotfix|\d{1,4}))*"
    ),
    "v1.108.7, v1.108.7-stable, v1.80.11-stable.1, main-v1.108.7-stable",
)
"""ghcr.io/berriai/litellm: `v` (or `main-v`) and the LiteLLM release, a channel suffix."""
NGC_TAGS = TagScheme(re.compile(r"\d{2}\.\d{2}(?:\.\d{1,2})?-py3(?:-[a-z0-9]{1,16})?"), "25.09-py3")
"""nvcr.io/nvidia/vllm: the container release YY.MM, not the vLLM version inside."""
RELEASE_TAGS = TagScheme(re.compile(r"v?(?P<version>\d{1,4}\.\d{1,4}\.\d{1,4})"), "v3.13.2, 13.2.0")
"""prom/prometheus, prom/node-exporter (`v` + the release), grafana/grafana (the release)."""
DCGM_EXPORTER_TAGS = TagScheme(
    re.compile(
        r"(?P<version>\d{1,4}\.\d{1,4}\.\d{1,4})-\d{1,4}\.\d{1,4}\.\d{1,4}"
        r"-(?:ubuntu\d{2}\.\d{2}|ubi\d{1,2}|distroless)"
    ),
    "4.5.3-4.8.2-distroless",
)
"""nvcr.io/nvidia/k8s/dcgm-exporter: the DCGM release, the exporter's, a base-image flavour
(NVIDIA/dcgm-exporter Makefile)."""
TAG_SCHEMES = (VLLM_TAGS, LITELLM_TAGS, NGC_TAGS, RELEASE_TAGS, DCGM_EXPORTER_TAGS)


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
        """The parsed reference, or None when the text is not exactly an image reference
        (spaces around it included: the text is deployed as written)."""
        match = _REFERENCE.fullmatch(reference)
        if match is None:
            return None
        repository = match["repository"]
        for implicit in ("docker.io/library/", "docker.io/", "index.docker.io/"):
            repository = repository.removeprefix(implicit)
        return cls(repository=repository, tag=match["tag"], digest=match["digest"])

    def release_version(self, scheme: TagScheme) -> Version | None:
        return scheme.version(self.tag) if self.tag else None

    def pinned(self, scheme: TagScheme) -> bool:
        """Pinned to a digest, or to a release tag of the scheme (never a rolling tag such as
        `latest`, `main`, `main-latest`, `main-stable`, `stable`, `lts`, `nightly`)."""
        return self.digest is not None or (self.tag is not None and scheme.is_release(self.tag))

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
    entrypoint: tuple[str, ...]
    """The image's own ENTRYPOINT: what runs before the command, unless replaced."""
    tags: TagScheme
    """How its releases are tagged (NGC tags are container releases, e.g. 25.09-py3, and
    say nothing of the vLLM inside)."""


VLLM_IMAGE_KINDS: dict[VllmKind, VllmImageKind] = {
    "vllm-openai": VllmImageKind(command_prefix=(), entrypoint=("vllm", "serve"), tags=VLLM_TAGS),
    "ngc": VllmImageKind(command_prefix=("vllm", "serve"), entrypoint=(), tags=NGC_TAGS),
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

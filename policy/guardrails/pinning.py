"""When an image reference names exactly one image.

The same rule as the stack config's (`config.images.ImageRef.pinned`, which this pack
cannot import: it runs on its own): a digest, or a tag holding an exact version such as
`v0.32.0`; never a rolling tag (`latest`, `main`, `stable`, `nightly`) or none at all.
"""

from __future__ import annotations

import re

IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
"""What a container runs when given the pulled image's id (docker.RemoteImage.image_id)."""
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_VERSION = re.compile(r"\d+\.\d+")


def tag_of(reference: str) -> str | None:
    """The tag of `repository[:tag][@digest]`; a registry's port (`host:5000/...`) is not one."""
    name = reference.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def is_pinned(reference: str) -> bool:
    if IMAGE_ID.match(reference) or _DIGEST.search(reference):
        return True
    version_tag = tag_of(reference)
    return version_tag is not None and _VERSION.search(version_tag) is not None

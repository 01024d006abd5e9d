"""When an image reference names exactly one image: the stack config's own rule
(`config.images`), with every publisher's release tags, since a policy sees image names
only, not which software they are.

A digest, or a release tag as its publisher writes them (`v0.32.0`, `v1.108.7-stable`,
`25.09-py3`); never a rolling tag (`latest`, `main`, `stable`, `nightly`) or none at all.
"""

from __future__ import annotations

import re

from config.images import TAG_SCHEMES, ImageRef

IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
"""What a container runs when given the pulled image's id (docker.RemoteImage.image_id)."""


def is_pinned(reference: str) -> bool:
    if IMAGE_ID.match(reference):
        return True
    ref = ImageRef.parse(reference)
    return ref is not None and any(ref.pinned(scheme) for scheme in TAG_SCHEMES)

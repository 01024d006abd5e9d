"""``/v1/embeddings`` as vLLM's pooling runner answers it: a deterministic unit vector of the
served dimension per input, as floats or base64."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import struct
import time
import uuid

from fastapi.responses import JSONResponse, Response

from testbed.fake_vllm.model import ServedModel, count_tokens, wrong_model
from testbed.fake_vllm.protocol import EmbeddingRequest, error_response


def embedding_inputs(
    raw: list[int] | list[list[int]] | str | list[str],
) -> list[str | list[int]]:
    """The separate inputs of an embedding request: one text or token-id list each."""
    if isinstance(raw, str) or (raw and isinstance(raw[0], int)):
        return [raw]  # type: ignore[list-item]
    return list(raw)  # type: ignore[arg-type]


def embedding_vector(item: str | list[int], dimension: int) -> list[float]:
    """A deterministic unit vector derived from the input."""
    seed = hashlib.sha256(json.dumps(item).encode()).digest()
    rng = random.Random(seed)
    vector = [rng.uniform(-1.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def embeddings(model: ServedModel, request: EmbeddingRequest) -> Response:
    """Embeddings of each input, as vLLM's pooling runner answers."""
    assert model.dimension is not None
    if (error := wrong_model(model, request.model)) is not None:
        return error
    if request.dimensions is not None and request.dimensions != model.dimension:
        message = (
            f'Model "{model.served_name}" does not support matryoshka representation, '
            "changing output dimensions will lead to poor results."
        )
        return error_response(400, message, "BadRequestError")
    data = []
    prompt_tokens = 0
    for index, item in enumerate(embedding_inputs(request.input)):
        tokens = count_tokens(item) if isinstance(item, str) else len(item)
        if tokens > model.max_model_len:
            message = (
                f"This model's maximum context length is {model.max_model_len} tokens. "
                f"However, you requested {tokens} tokens in the input for embedding "
                "generation. Please reduce the length of the input."
            )
            return error_response(400, message, "BadRequestError")
        prompt_tokens += tokens
        vector = embedding_vector(item, model.dimension)
        embedding: list[float] | str = vector
        if request.encoding_format == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"index": index, "object": "embedding", "embedding": embedding})
    usage = {
        "prompt_tokens": prompt_tokens,
        "total_tokens": prompt_tokens,
        "completion_tokens": 0,
    }
    return JSONResponse(
        {
            "id": f"embd-{uuid.uuid4().hex}",
            "object": "list",
            "created": int(time.time()),
            "model": model.served_name,
            "data": data,
            "usage": usage,
        }
    )

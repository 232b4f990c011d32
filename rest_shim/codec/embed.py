"""/api/embed and /api/embeddings JSON <-> EmbedRequest / EmbeddingsRequest."""

from __future__ import annotations

from typing import Any

import numpy as np

from rest_shim.codec import common
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2

_EMBED_TYPES = {"model": "string", "truncate": "bool", "dimensions": "int", "options": "any", "input": "any"}
_EMBEDDINGS_TYPES = {"model": "string", "prompt": "string", "options": "any"}


def _with_runtime(pb: Any, body: dict[str, Any]) -> Any:
    if (opts := common.options_to_pb(body.get("options"))) is not None:
        pb.options.CopyFrom(opts)
    if (ka := common.keep_alive_to_ns(body.get("keep_alive"))) is not None:
        pb.keep_alive.FromNanoseconds(ka)
    return pb


def embed_request_to_pb(body: dict[str, Any]) -> inference_pb2.EmbedRequest:
    common.check_types(body, "EmbedRequest", _EMBED_TYPES)
    raw = body.get("input")
    if raw is None:
        inputs: list[str] = []
    elif isinstance(raw, str):
        inputs = [raw] if raw else []
    elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        inputs = raw
    else:
        raise ShimError(400, "invalid input type")
    pb = inference_pb2.EmbedRequest(
        model=body.get("model") or "", input=inputs, dimensions=body.get("dimensions") or 0
    )
    if body.get("truncate") is not None:
        pb.truncate = body["truncate"]
    return _with_runtime(pb, body)


def float32_values(values: Any) -> list[float]:
    """float32 components as the shortest decimals that read back to the same float32,
    the digits Go's encoding/json writes for []float32."""
    return [float(str(x)) for x in np.asarray(values, dtype=np.float32)]


def embed_response_from_pb(pb: inference_pb2.EmbedResponse) -> dict[str, Any]:
    d: dict[str, Any] = {"model": pb.model, "embeddings": [float32_values(e.values) for e in pb.embeddings]}
    for key in ("total_duration", "load_duration", "prompt_eval_count"):
        if getattr(pb, key):
            d[key] = getattr(pb, key)
    return d


def embeddings_request_to_pb(body: dict[str, Any]) -> inference_pb2.EmbeddingsRequest:
    common.check_types(body, "EmbeddingRequest", _EMBEDDINGS_TYPES)
    pb = inference_pb2.EmbeddingsRequest(model=body.get("model") or "", prompt=body.get("prompt") or "")
    return _with_runtime(pb, body)


def embeddings_response_from_pb(pb: inference_pb2.EmbeddingsResponse) -> dict[str, Any]:
    return {"embedding": list(pb.embedding)}

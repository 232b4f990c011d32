"""/api/generate JSON <-> GenerateRequest / GenerateResponse."""

from __future__ import annotations

from typing import Any

from rest_shim.codec import common
from tokenwire.v1 import inference_pb2

_TYPES = {
    "model": "string",
    "prompt": "string",
    "suffix": "string",
    "system": "string",
    "template": "string",
    "context": "[]int",
    "stream": "bool",
    "raw": "bool",
    "images": "any",
    "options": "any",
    "truncate": "bool",
    "shift": "bool",
    "logprobs": "bool",
    "top_logprobs": "int",
    "_debug_render_only": "bool",
}


def generate_request_to_pb(body: dict[str, Any]) -> inference_pb2.GenerateRequest:
    common.check_types(body, "GenerateRequest", _TYPES)
    pb = inference_pb2.GenerateRequest(
        model=body.get("model") or "",
        prompt=body.get("prompt") or "",
        suffix=body.get("suffix") or "",
        context=body.get("context") or [],
        raw=bool(body.get("raw")),
        images=common.images_to_bytes(body.get("images"), "GenerateRequest"),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=body.get("top_logprobs") or 0,
        debug_render_only=bool(body.get("_debug_render_only")),
    )
    for key in ("system", "template"):
        if body.get(key) is not None:
            setattr(pb, key, body[key])
    for key in ("stream", "truncate", "shift"):
        if body.get(key) is not None:
            setattr(pb, key, body[key])
    if (fmt := common.format_to_pb(body.get("format"))) is not None:
        pb.format.CopyFrom(fmt)
    if (opts := common.options_to_pb(body.get("options"))) is not None:
        pb.options.CopyFrom(opts)
    if (think := common.think_to_pb(body.get("think"))) is not None:
        pb.think.CopyFrom(think)
    if (ka := common.keep_alive_to_ns(body.get("keep_alive"))) is not None:
        pb.keep_alive.FromNanoseconds(ka)
    return pb


def generate_response_from_pb(pb: inference_pb2.GenerateResponse) -> dict[str, Any]:
    # Key order follows Ollama's GenerateResponse struct.
    if pb.HasField("debug_info"):
        return common.debug_only_from_pb(pb)
    d: dict[str, Any] = {"model": pb.model}
    if pb.remote_model:
        d["remote_model"] = pb.remote_model
    if pb.remote_host:
        d["remote_host"] = pb.remote_host
    d["created_at"] = common.rfc3339nano(pb.created_at)
    d["response"] = pb.response
    if pb.thinking:
        d["thinking"] = pb.thinking
    d["done"] = pb.done
    if pb.done_reason:
        d["done_reason"] = common.DONE_REASONS[pb.done_reason]
    if pb.context:
        d["context"] = list(pb.context)
    common.metrics_from_pb(pb, d)
    if pb.tool_calls:
        d["tool_calls"] = common.tool_calls_from_pb(pb.tool_calls)
    if pb.logprobs:
        d["logprobs"] = common.logprobs_json(pb.logprobs)
    return d

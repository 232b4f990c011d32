"""/api/chat JSON <-> ChatRequest / ChatResponse."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from rest_shim.codec import common
from tokenwire.v1 import inference_pb2, types_pb2

_TYPES = {
    "model": "string",
    "messages": "[]object",
    "tools": "[]object",
    "stream": "bool",
    "options": "any",
    "truncate": "bool",
    "shift": "bool",
    "logprobs": "bool",
    "top_logprobs": "int",
    "_debug_render_only": "bool",
}


def _tool_to_pb(t: dict) -> types_pb2.Tool:
    fn = t.get("function") or {}
    params = struct_pb2.Struct()
    params.update(fn.get("parameters") or {})
    tool = types_pb2.Tool(
        type=t.get("type") or "function",
        function=types_pb2.ToolFunction(
            name=fn.get("name") or "", description=fn.get("description") or "", parameters=params
        ),
    )
    if isinstance(t.get("items"), dict):
        tool.items.update(t["items"])
    return tool


def chat_request_to_pb(body: dict[str, Any]) -> inference_pb2.ChatRequest:
    common.check_types(body, "ChatRequest", _TYPES)
    pb = inference_pb2.ChatRequest(
        model=body.get("model") or "",
        messages=[common.message_to_pb(m) for m in body.get("messages") or []],
        tools=[_tool_to_pb(t) for t in body.get("tools") or []],
        logprobs=bool(body.get("logprobs")),
        top_logprobs=body.get("top_logprobs") or 0,
        debug_render_only=bool(body.get("_debug_render_only")),
    )
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


def chat_response_from_pb(pb: inference_pb2.ChatResponse) -> dict[str, Any]:
    # Key order follows Ollama's ChatResponse struct (done_reason before done).
    if pb.HasField("debug_info"):
        return common.debug_only_from_pb(pb)
    d: dict[str, Any] = {"model": pb.model}
    if pb.remote_model:
        d["remote_model"] = pb.remote_model
    if pb.remote_host:
        d["remote_host"] = pb.remote_host
    d["created_at"] = common.rfc3339nano(pb.created_at)
    d["message"] = common.message_from_pb(pb.message)
    if pb.done_reason:
        d["done_reason"] = common.DONE_REASONS[pb.done_reason]
    d["done"] = pb.done
    common.metrics_from_pb(pb, d)
    if pb.logprobs:
        d["logprobs"] = common.logprobs_json(pb.logprobs)
    return d

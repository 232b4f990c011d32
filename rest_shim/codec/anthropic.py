"""Anthropic Messages API (/v1/messages) JSON <-> ChatRequest / ChatResponse, as Ollama's
anthropic/anthropic.go: content blocks in, content blocks and stream events out."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from google.protobuf import struct_pb2

from rest_shim.codec import common
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2, types_pb2
from tokenwire_common.structs import from_struct

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}


def new_id(prefix: str = "msg") -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# ------------------------------------------------------------- request


def _text(blocks: Any) -> str:
    if isinstance(blocks, str):
        return blocks
    if isinstance(blocks, list):
        return "\n".join(
            b.get("text") or "" for b in blocks if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _struct(value: Any) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    if isinstance(value, dict):
        s.update(value)
    return s


def _messages(raw: list[Any]) -> list[types_pb2.Message]:
    out: list[types_pb2.Message] = []
    names: dict[str, str] = {}
    for m in raw:
        if not isinstance(m, dict):
            raise ShimError(400, "invalid message format")
        role = (m.get("role") or "").lower()
        content = m.get("content")
        if isinstance(content, str):
            out.append(types_pb2.Message(role=role, content=content))
            continue
        if not isinstance(content, list):
            raise ShimError(400, "invalid message content")
        msg = types_pb2.Message(role=role)
        texts: list[str] = []
        for block in content:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text":
                texts.append(block.get("text") or "")
            elif kind == "image":
                source = block.get("source") or {}
                if source.get("type") != "base64":
                    raise ShimError(400, "only base64 images are supported")
                try:
                    msg.images.append(base64.b64decode(source.get("data") or "", validate=True))
                except (binascii.Error, ValueError):
                    raise ShimError(400, "invalid image data") from None
            elif kind == "thinking":
                msg.thinking += block.get("thinking") or ""
            elif kind == "tool_use":
                names[block.get("id") or ""] = block.get("name") or ""
                msg.tool_calls.append(
                    types_pb2.ToolCall(
                        id=block.get("id") or "",
                        function=types_pb2.ToolCallFunction(
                            index=len(msg.tool_calls),
                            name=block.get("name") or "",
                            arguments=_struct(block.get("input")),
                        ),
                    )
                )
            elif kind == "tool_result":
                # Each result becomes its own tool message, as Ollama does.
                tool_id = block.get("tool_use_id") or ""
                out.append(
                    types_pb2.Message(
                        role="tool",
                        content=_text(block.get("content")),
                        tool_call_id=tool_id,
                        tool_name=names.get(tool_id, ""),
                    )
                )
            else:
                raise ShimError(400, f"unsupported content block type: {kind}")
        msg.content = "\n".join(texts)
        if msg.content or msg.images or msg.tool_calls or msg.thinking:
            out.append(msg)
    return out


def _tool(t: dict) -> types_pb2.Tool:
    return types_pb2.Tool(
        type="function",
        function=types_pb2.ToolFunction(
            name=t.get("name") or "",
            description=t.get("description") or "",
            parameters=_struct(t.get("input_schema")),
        ),
    )


def messages_request_to_pb(body: dict[str, Any]) -> tuple[inference_pb2.ChatRequest, bool]:
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        raise ShimError(400, "max_tokens is required and must be positive")
    if not isinstance(body.get("messages"), list):
        raise ShimError(400, "messages is required")
    messages = _messages(body["messages"])
    system = _text(body.get("system"))
    if system:
        messages.insert(0, types_pb2.Message(role="system", content=system))
    options = types_pb2.Options(num_predict=max_tokens)
    for key, field in (("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k")):
        if body.get(key) is not None:
            setattr(options, field, body[key])
    options.stop.extend(body.get("stop_sequences") or [])
    stream = bool(body.get("stream"))
    pb = inference_pb2.ChatRequest(
        model=body.get("model") or "",
        messages=messages,
        tools=[_tool(t) for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t],
        options=options,
        stream=stream,
    )
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "disabled"):
        pb.think.enabled = thinking["type"] == "enabled"
    return pb, stream


# ------------------------------------------------------------- response


def _stop_reason(pb: inference_pb2.ChatResponse, has_tools: bool) -> str:
    if common.DONE_REASONS.get(pb.done_reason) == "length":
        return "max_tokens"
    if has_tools:
        return "tool_use"
    return "stop_sequence" if pb.stop_sequence else "end_turn"


def _tool_block(tc: types_pb2.ToolCall) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": tc.id,
        "name": tc.function.name,
        "input": from_struct(tc.function.arguments),
    }


def message_from_pb(pb: inference_pb2.ChatResponse, mid: str) -> dict[str, Any]:
    m = pb.message
    content: list[dict[str, Any]] = []
    if m.thinking:
        content.append({"type": "thinking", "thinking": m.thinking, "signature": ""})
    if m.content:
        content.append({"type": "text", "text": m.content})
    content += [_tool_block(tc) for tc in m.tool_calls]
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": pb.model,
        "content": content,
        "stop_reason": _stop_reason(pb, bool(m.tool_calls)),
        "stop_sequence": pb.stop_sequence or None,
        "usage": _usage(pb),
    }


def _usage(pb: Any) -> dict[str, int]:
    """input_tokens is the whole prompt, as Ollama reports it; what the prefix cache
    served is cache_read_input_tokens, the field Anthropic has for it."""
    return {
        "input_tokens": pb.prompt_eval_count,
        "output_tokens": pb.eval_count,
        "cache_read_input_tokens": pb.prompt_cached_count,
    }


class StreamEvents:
    """Native chat chunks -> Anthropic stream events, as (event name, data) pairs."""

    def __init__(self, model: str):
        self.id = new_id()
        self.model = model
        self.started = False
        self.block: str | None = None  # type of the open content block
        self.index = -1
        self.saw_tools = False

    def _open(self, kind: str, block: dict[str, Any]) -> list[tuple[str, dict]]:
        out = self._close()
        self.index += 1
        self.block = kind
        out.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": self.index, "content_block": block},
            )
        )
        return out

    def _close(self) -> list[tuple[str, dict]]:
        if self.block is None:
            return []
        self.block = None
        return [("content_block_stop", {"type": "content_block_stop", "index": self.index})]

    def _delta(self, delta: dict[str, Any]) -> tuple[str, dict]:
        return ("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})

    def convert(self, pb: inference_pb2.ChatResponse) -> list[tuple[str, dict]]:
        out: list[tuple[str, dict]] = []
        if not self.started:
            self.started = True
            message = {
                "id": self.id,
                "type": "message",
                "role": "assistant",
                "model": pb.model or self.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**_usage(pb), "output_tokens": 0},
            }
            out.append(("message_start", {"type": "message_start", "message": message}))
        m = pb.message
        if m.thinking:
            if self.block != "thinking":
                out += self._open("thinking", {"type": "thinking", "thinking": ""})
            out.append(self._delta({"type": "thinking_delta", "thinking": m.thinking}))
        if m.content:
            if self.block != "text":
                out += self._open("text", {"type": "text", "text": ""})
            out.append(self._delta({"type": "text_delta", "text": m.content}))
        for tc in m.tool_calls:
            self.saw_tools = True
            out += self._open(
                "tool_use", {"type": "tool_use", "id": tc.id, "name": tc.function.name, "input": {}}
            )
            args = common.arguments_text(tc)
            out.append(self._delta({"type": "input_json_delta", "partial_json": args}))
        if pb.done:
            out += self._close()
            delta = {
                "stop_reason": _stop_reason(pb, self.saw_tools),
                "stop_sequence": pb.stop_sequence or None,
            }
            usage = _usage(pb)
            out.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
            out.append(("message_stop", {"type": "message_stop"}))
        return out

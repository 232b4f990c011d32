"""OpenAI-compatible /v1 JSON <-> tokenwire messages, as Ollama's openai/openai.go.

Requests become the native ChatRequest / GenerateRequest / EmbedRequest; responses are
re-encoded in OpenAI's shapes. Pure functions; the ids and `created` come from the
caller so streams can pin them.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import time
from typing import Any

import numpy as np
from google.protobuf import struct_pb2

from rest_shim.choices import MAX_CHOICES
from rest_shim.codec import common
from rest_shim.codec.chat import _tool_to_pb
from rest_shim.codec.embed import float32_values
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2, types_pb2

FINGERPRINT = "fp_ollama"
# 401 as OpenAI answers a bad key: an invalid_request_error (the SDKs raise AuthenticationError
# from the status).
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "not_found_error"}
_DATA_URI = re.compile(r"^data:(?:image/(?:jpeg|jpg|png|webp))?;base64,(.*)$", re.S)
_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "max": "max", "xhigh": "max"}
_EFFORT["ultra"] = "max"
_THINK_LEVELS = {
    "low": types_pb2.THINK_LEVEL_LOW,
    "medium": types_pb2.THINK_LEVEL_MEDIUM,
    "high": types_pb2.THINK_LEVEL_HIGH,
    "max": types_pb2.THINK_LEVEL_MAX,
}


def error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def new_id(prefix: str) -> str:
    return f"{prefix}-{random.randrange(999)}"


# ------------------------------------------------------------- requests


def _options(body: dict[str, Any], top_p_zero_is_one: bool = False) -> types_pb2.Options:
    o = types_pb2.Options()
    # OpenAI's newer name wins over the deprecated one; langchain-openai sends only
    # max_completion_tokens for ChatOpenAI(max_tokens=...).
    for key in ("max_tokens", "max_completion_tokens"):
        if body.get(key) is not None:
            o.num_predict = int(body[key])
    o.temperature = float(body["temperature"]) if body.get("temperature") is not None else 1.0
    top_p = body.get("top_p")
    o.top_p = 1.0 if top_p is None or (top_p_zero_is_one and top_p == 0) else float(top_p)
    if body.get("seed") is not None:
        o.seed = int(body["seed"])
    stop = body.get("stop")
    if isinstance(stop, str):
        o.stop.append(stop)
    elif isinstance(stop, list):
        o.stop.extend(str(s) for s in stop)
    for key in ("frequency_penalty", "presence_penalty"):
        if body.get(key) is not None:
            setattr(o, key, float(body[key]))
    return o


def _image(url: Any) -> bytes:
    if isinstance(url, dict):
        url = url.get("url")
    if not isinstance(url, str):
        raise ShimError(400, "invalid image input")
    m = _DATA_URI.match(url)
    if not m:
        raise ShimError(400, "image URLs are not currently supported, please use base64 encoded data instead")
    try:
        return base64.b64decode(m.group(1), validate=True)
    except (binascii.Error, ValueError):
        raise ShimError(400, "invalid image input") from None


def _arguments(raw: Any) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    if isinstance(raw, dict):
        s.update(raw)
        return s
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw else {}
    except json.JSONDecodeError:
        raise ShimError(400, "invalid tool call arguments") from None
    if not isinstance(value, dict):
        raise ShimError(400, "invalid tool call arguments")
    s.update(value)
    return s


def _go_type(v: Any) -> str:
    return {dict: "map[string]interface {}", list: "[]interface {}", int: "float64", float: "float64"}.get(
        type(v), type(v).__name__
    )


def _messages(raw: list[Any]) -> list[types_pb2.Message]:
    out: list[types_pb2.Message] = []
    names: dict[str, str] = {}  # tool_call id -> function name, for later tool messages
    for m in raw:
        if not isinstance(m, dict):
            raise ShimError(400, "invalid message format")
        role = (m.get("role") or "").lower()
        content = m.get("content")
        msg = types_pb2.Message(role=role)
        if isinstance(content, str):
            msg.content = content
        elif isinstance(content, list):
            texts = []
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text":
                    texts.append(part.get("text") or "")
                elif kind == "image_url":
                    msg.images.append(_image(part.get("image_url")))
                else:
                    raise ShimError(400, "invalid message format")
            msg.content = "\n".join(texts)
        elif content is not None or not m.get("tool_calls"):
            if content is not None:
                raise ShimError(400, f"invalid message content type: {_go_type(content)}")
        if m.get("reasoning"):
            msg.thinking = str(m["reasoning"])
        for i, tc in enumerate(m.get("tool_calls") or []):
            fn = tc.get("function") or {}
            names[tc.get("id") or ""] = fn.get("name") or ""
            msg.tool_calls.append(
                types_pb2.ToolCall(
                    id=tc.get("id") or "",
                    function=types_pb2.ToolCallFunction(
                        index=int(tc.get("index", i) or 0),
                        name=fn.get("name") or "",
                        arguments=_arguments(fn.get("arguments")),
                    ),
                )
            )
        if role == "tool":
            msg.tool_call_id = m.get("tool_call_id") or ""
            msg.tool_name = m.get("name") or names.get(msg.tool_call_id, "")
        out.append(msg)
    return out


def _format(response_format: Any) -> types_pb2.Format | None:
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return types_pb2.Format(json=True)
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            fmt = types_pb2.Format()
            fmt.schema.update(schema)
            return fmt
    return None


def _think(body: dict[str, Any]) -> types_pb2.Think | None:
    effort = body.get("reasoning_effort")
    if effort is None and isinstance(body.get("reasoning"), dict):
        effort = body["reasoning"].get("effort")
    if effort is None:
        return None
    if effort == "none":
        return types_pb2.Think(enabled=False)
    if effort not in _EFFORT:
        raise ShimError(
            400,
            f"invalid reasoning value: '{effort}' "
            '(must be "minimal", "low", "medium", "high", "max", or "none")',
        )
    return types_pb2.Think(level=_THINK_LEVELS[_EFFORT[effort]])


def _stream_flags(body: dict[str, Any]) -> tuple[bool, bool]:
    stream = bool(body.get("stream"))
    usage = stream and bool((body.get("stream_options") or {}).get("include_usage"))
    return stream, usage


def chat_request_to_pb(body: dict[str, Any]) -> tuple[inference_pb2.ChatRequest, bool, bool]:
    """(request, stream, include_usage)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ShimError(400, "[] is too short - 'messages'")
    stream, usage = _stream_flags(body)
    pb = inference_pb2.ChatRequest(
        model=body.get("model") or "",
        messages=_messages(messages),
        tools=[_tool_to_pb(t) for t in body.get("tools") or []],
        options=_options(body),
        stream=stream,
        logprobs=bool(body.get("logprobs")),
        top_logprobs=int(body.get("top_logprobs") or 0),
    )
    if (fmt := _format(body.get("response_format"))) is not None:
        pb.format.CopyFrom(fmt)
    if (think := _think(body)) is not None:
        pb.think.CopyFrom(think)
    return pb, stream, usage


def completion_request_to_pb(body: dict[str, Any]) -> tuple[inference_pb2.GenerateRequest, bool, bool]:
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise ShimError(400, "invalid prompt: only a string is supported")
    stream, usage = _stream_flags(body)
    pb = inference_pb2.GenerateRequest(
        model=body.get("model") or "",
        prompt=prompt or "",
        suffix=body.get("suffix") or "",
        options=_options(body, top_p_zero_is_one=True),
        stream=stream,
    )
    if (
        isinstance(body.get("logprobs"), int)
        and not isinstance(body["logprobs"], bool)
        and body["logprobs"] > 0
    ):
        pb.logprobs = True
        pb.top_logprobs = body["logprobs"]
    return pb, stream, usage


def embeddings_request_to_pb(body: dict[str, Any]) -> tuple[inference_pb2.EmbedRequest, str]:
    raw = body.get("input")
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = raw
    else:
        raise ShimError(400, "invalid input")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise ShimError(
            400, f"Invalid value for 'encoding_format' = {encoding}. Supported values: ['float', 'base64']."
        )
    pb = inference_pb2.EmbedRequest(
        model=body.get("model") or "", input=inputs, dimensions=int(body.get("dimensions") or 0)
    )
    return pb, encoding


# ------------------------------------------------------------- responses


def _usage(pb: Any) -> dict[str, Any]:
    return {
        "prompt_tokens": pb.prompt_eval_count,
        "completion_tokens": pb.eval_count,
        "total_tokens": pb.prompt_eval_count + pb.eval_count,
        # What the prefix cache served, inside prompt_tokens (OpenAI's field for it).
        "prompt_tokens_details": {"cached_tokens": pb.prompt_cached_count},
    }


def _tool_calls(calls: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": tc.id,
            "index": tc.function.index,
            "type": "function",
            "function": {
                "name": tc.function.name,
                "arguments": common.arguments_text(tc),
            },
        }
        for tc in calls
    ]


def _finish(pb: Any, has_calls: bool) -> str | None:
    if not pb.done:
        return None
    reason = common.DONE_REASONS.get(pb.done_reason, "stop")
    if reason == "length":
        return "length"
    return "tool_calls" if has_calls else "stop"


def _chat_message(m: types_pb2.Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant", "content": m.content}
    if m.thinking:
        out["reasoning"] = m.thinking
    if m.tool_calls:
        out["tool_calls"] = _tool_calls(m.tool_calls)
    return out


def _envelope(kind: str, rid: str, created: int, model: str) -> dict[str, Any]:
    return {"id": rid, "object": kind, "created": created, "model": model, "system_fingerprint": FINGERPRINT}


def _chat_logprobs(pb: Any) -> dict[str, Any]:
    """choices[].logprobs when the request asked for them: {"content": [...]}."""
    return (
        {"logprobs": {"content": common.logprobs_json(pb.logprobs, always_top=True)}} if pb.logprobs else {}
    )


def chat_completion_from_pb(pb: inference_pb2.ChatResponse, rid: str, created: int) -> dict[str, Any]:
    return {
        **_envelope("chat.completion", rid, created, pb.model),
        "choices": [
            {
                "index": 0,
                "message": _chat_message(pb.message),
                "finish_reason": _finish(pb, bool(pb.message.tool_calls)),
                **_chat_logprobs(pb),
            }
        ],
        "usage": _usage(pb),
    }


def choice_count(body: dict[str, Any]) -> int:
    """OpenAI's `n`: how many choices (1 when absent); at most MAX_CHOICES."""
    n = body.get("n")
    if n is None:
        return 1
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CHOICES:
        raise ShimError(400, f"n must be an integer between 1 and {MAX_CHOICES}")
    return n


def chat_completion_choices(finals: list[Any], rid: str, created: int) -> dict[str, Any]:
    """n final messages as one chat.completion with n choices; the prompt counted once."""
    body = chat_completion_from_pb(finals[0], rid, created)
    body["choices"] = [
        {**chat_completion_from_pb(pb, rid, created)["choices"][0], "index": i} for i, pb in enumerate(finals)
    ]
    completion = sum(pb.eval_count for pb in finals)
    body["usage"].update(
        completion_tokens=completion, total_tokens=body["usage"]["prompt_tokens"] + completion
    )
    return body


def as_choice(chunk: dict[str, Any], index: int, first: ChatChunks) -> dict[str, Any]:
    """A chunk of choice `index`, under the id and created of the whole completion."""
    chunk.update(id=first.id, created=first.created)
    for choice in chunk.get("choices", []):
        choice["index"] = index
    return chunk


def merged_usage_chunk(finals: list[Any], first: ChatChunks) -> dict[str, Any]:
    usage = chat_completion_choices(finals, first.id, first.created)["usage"]
    chunk = first._chunk(finals[0].model, {}, None)
    chunk["choices"] = []
    chunk["usage"] = usage
    return chunk


class ChatChunks:
    """Native chat chunks -> chat.completion.chunk objects (id and created pinned)."""

    def __init__(self, include_usage: bool):
        self.id = new_id("chatcmpl")
        self.created = int(time.time())
        self.include_usage = include_usage
        self.saw_calls = False

    def _chunk(self, model: str, delta: dict, finish: str | None) -> dict[str, Any]:
        return {
            **_envelope("chat.completion.chunk", self.id, self.created, model),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def convert(self, pb: inference_pb2.ChatResponse) -> list[dict[str, Any]]:
        out = []
        m = pb.message
        if m.thinking:
            out.append(
                self._chunk(pb.model, {"role": "assistant", "content": "", "reasoning": m.thinking}, None)
            )
        if m.content or m.tool_calls or not (m.thinking or pb.done):
            delta: dict[str, Any] = {"role": "assistant", "content": m.content}
            if m.tool_calls:
                self.saw_calls = True
                delta["tool_calls"] = _tool_calls(m.tool_calls)
            out.append(self._chunk(pb.model, delta, None))
            out[-1]["choices"][0].update(_chat_logprobs(pb))
        if pb.done:
            out.append(self._chunk(pb.model, {}, _finish(pb, self.saw_calls)))
            if self.include_usage:
                usage = self._chunk(pb.model, {}, None)
                usage["choices"] = []
                usage["usage"] = _usage(pb)
                out.append(usage)
        return out


def _completion_logprobs(pb: Any, offset: int) -> dict[str, Any]:
    """The legacy completions shape, which the OpenAI SDK's Completion type reads:
    tokens, token_logprobs, top_logprobs as {token: logprob}, text_offset."""
    if not pb.logprobs:
        return {}
    offsets = []
    for e in pb.logprobs:
        offsets.append(offset)
        offset += len(e.token)
    return {
        "logprobs": {
            "tokens": [e.token for e in pb.logprobs],
            "token_logprobs": [e.logprob for e in pb.logprobs],
            "top_logprobs": [{t.token: t.logprob for t in e.top_logprobs} for e in pb.logprobs],
            "text_offset": offsets,
        }
    }


def completion_from_pb(
    pb: inference_pb2.GenerateResponse, rid: str, created: int, offset: int = 0
) -> dict[str, Any]:
    choice = {"text": pb.response, "index": 0, "finish_reason": _finish(pb, False)}
    return {
        **_envelope("text_completion", rid, created, pb.model),
        "choices": [{**choice, **_completion_logprobs(pb, offset)}],
        "usage": _usage(pb),
    }


class CompletionChunks:
    def __init__(self, include_usage: bool):
        self.id = new_id("cmpl")
        self.created = int(time.time())
        self.include_usage = include_usage
        self.offset = 0  # text_offset of logprobs runs across chunks

    def convert(self, pb: inference_pb2.GenerateResponse) -> list[dict[str, Any]]:
        chunk = completion_from_pb(pb, self.id, self.created, self.offset)
        self.offset += sum(len(e.token) for e in pb.logprobs)
        del chunk["usage"]
        out = [chunk]
        if pb.done and self.include_usage:
            usage = completion_from_pb(pb, self.id, self.created)
            usage["choices"] = []
            out.append(usage)
        return out


def embeddings_from_pb(pb: inference_pb2.EmbedResponse, encoding: str) -> dict[str, Any]:
    def vector(e: inference_pb2.Embedding) -> Any:
        if encoding == "base64":
            return base64.b64encode(np.asarray(e.values, dtype="<f4").tobytes()).decode()
        return float32_values(e.values)

    return {
        "object": "list",
        "data": [
            {"object": "embedding", "embedding": vector(e), "index": i} for i, e in enumerate(pb.embeddings)
        ],
        "model": pb.model,
        "usage": {"prompt_tokens": pb.prompt_eval_count, "total_tokens": pb.prompt_eval_count},
    }


def model_from_pb(m: Any) -> dict[str, Any]:
    """One /v1/models entry from a ListModels entry; owned_by is the namespace."""
    parts = m.name.split("/")
    owned_by = parts[-2] if len(parts) >= 2 else "library"
    return {"id": m.name, "object": "model", "created": m.modified_at.seconds, "owned_by": owned_by}

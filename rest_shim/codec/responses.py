"""OpenAI's Responses API (POST /v1/responses, stateless, as Ollama 0.33 serves it)
<-> ChatRequest / ChatResponse. Pure.

A request is rewritten into the Chat Completions body it means (instructions as the
system message, input items as messages, flat function tools nested, text.format as
response_format, max_output_tokens as max_tokens) and decoded by the chat codec, so
both routes share one set of checks. Answers are Response objects, or when streamed
the named events (response.created ... response.completed) with sequence numbers.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from rest_shim.codec import common
from rest_shim.codec import openai as oai
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2


def _part(part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise ShimError(400, "invalid input content part")
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": part.get("text") or ""}
    if kind == "input_image":
        url = part.get("image_url")
        return {"type": "image_url", "image_url": {"url": url.get("url") if isinstance(url, dict) else url}}
    raise ShimError(400, f"unsupported input content type: {kind}")


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if body.get("instructions"):
        out.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    if isinstance(items, str):
        return [*out, {"role": "user", "content": items}]
    if not isinstance(items, list):
        raise ShimError(400, "input is required: a string or a list of items")
    for item in items:
        if not isinstance(item, dict):
            raise ShimError(400, "invalid input item")
        kind = item.get("type", "message")
        if kind == "message":
            content = item.get("content")
            parts = content if isinstance(content, str) else [_part(p) for p in content or []]
            role = "system" if item.get("role") == "developer" else item.get("role") or "user"
            out.append({"role": role, "content": parts})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id") or "",
                "type": "function",
                "function": {"name": item.get("name") or "", "arguments": item.get("arguments") or "{}"},
            }
            if out and out[-1]["role"] == "assistant" and out[-1].get("tool_calls"):
                out[-1]["tool_calls"].append(call)  # parallel calls: one assistant turn
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else json.dumps(output)
            out.append({"role": "tool", "tool_call_id": item.get("call_id") or "", "content": text})
        elif kind == "reasoning":
            continue  # stateless: an earlier turn's reasoning is not sent back to the model
        else:
            raise ShimError(400, f"unsupported input item type: {kind}")
    return out


def _tool(t: Any) -> dict[str, Any]:
    if not isinstance(t, dict) or t.get("type") != "function":
        raise ShimError(400, f"unsupported tool type: {t.get('type') if isinstance(t, dict) else t}")
    fn = {k: t[k] for k in ("name", "description", "parameters") if k in t}
    return {"type": "function", "function": fn}


def _response_format(text: Any) -> dict[str, Any] | None:
    fmt = (text or {}).get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_schema":
        return {"type": "json_schema", "json_schema": {"schema": fmt.get("schema") or {}}}
    return {"type": fmt["type"]}


def request_to_pb(body: dict[str, Any]) -> tuple[inference_pb2.ChatRequest, bool]:
    """(request, stream)."""
    chat: dict[str, Any] = {
        "model": body.get("model"),
        "messages": _messages(body),
        "stream": body.get("stream"),
        "tools": [_tool(t) for t in body.get("tools") or []],
    }
    for key in ("temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty"):
        if key in body:
            chat[key] = body[key]
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    if (fmt := _response_format(body.get("text"))) is not None:
        chat["response_format"] = fmt
    if isinstance(body.get("reasoning"), dict) and body["reasoning"].get("effort"):
        chat["reasoning_effort"] = body["reasoning"]["effort"]
    pb, stream, _ = oai.chat_request_to_pb(chat)
    return pb, stream


# ------------------------------------------------------------------ answers


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _usage(pb: Any) -> dict[str, Any]:
    return {
        "input_tokens": pb.prompt_eval_count,
        "input_tokens_details": {"cached_tokens": pb.prompt_cached_count},
        "output_tokens": pb.eval_count,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": pb.prompt_eval_count + pb.eval_count,
    }


def _status(pb: Any) -> tuple[str, dict[str, str] | None]:
    if common.DONE_REASONS.get(pb.done_reason) == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    return "completed", None


def _message_item(mid: str, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"type": "message", "id": mid, "status": status, "role": "assistant", "content": content}


def _reasoning_item(rid: str, text: str) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": text}] if text else []
    return {"type": "reasoning", "id": rid, "summary": summary}


def _call_item(fid: str, tc: Any, status: str = "completed") -> dict[str, Any]:
    args = common.arguments_text(tc)
    return {
        "type": "function_call",
        "id": fid,
        "call_id": tc.id,
        "name": tc.function.name,
        "arguments": args if status == "completed" else "",
        "status": status,
    }


def _envelope(rid: str, created: int, model: str, status: str) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "model": model,
        "output": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
    }


def response_from_pb(pb: inference_pb2.ChatResponse, rid: str, created: int) -> dict[str, Any]:
    m = pb.message
    output: list[dict[str, Any]] = []
    if m.thinking:
        output.append(_reasoning_item(new_id("rs"), m.thinking))
    if m.content or not m.tool_calls:
        output.append(_message_item(new_id("msg"), m.content, "completed"))
    output += [_call_item(new_id("fc"), tc) for tc in m.tool_calls]
    status, incomplete = _status(pb)
    out = _envelope(rid, created, pb.model, status)
    out.update(output=output, incomplete_details=incomplete, usage=_usage(pb))
    return out


class ResponseEvents:
    """Native chat chunks -> Responses stream events, as (event name, data) pairs."""

    def __init__(self, model: str):
        self.id = new_id("resp")
        self.created = int(time.time())
        self.model = model
        self.seq = 0
        self.output: list[dict[str, Any]] = []  # the items as they end
        self.open: dict[str, Any] | None = None  # {"item": ..., "text": ...} of the item being written
        self.started = False

    def _ev(self, kind: str, **data: Any) -> tuple[str, dict[str, Any]]:
        event = {"type": kind, "sequence_number": self.seq, **data}
        self.seq += 1
        return kind, event

    def _response(self, status: str) -> dict[str, Any]:
        out = _envelope(self.id, self.created, self.model, status)
        out["output"] = list(self.output)
        return out

    def _begin(self, item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        self.open = {"item": item, "text": "", "index": len(self.output)}
        events = [self._ev("response.output_item.added", output_index=self.open["index"], item=item)]
        where = {"item_id": item["id"], "output_index": self.open["index"]}
        if item["type"] == "message":
            part = {"type": "output_text", "text": "", "annotations": []}
            events.append(self._ev("response.content_part.added", **where, content_index=0, part=part))
        elif item["type"] == "reasoning":
            part = {"type": "summary_text", "text": ""}
            events.append(
                self._ev("response.reasoning_summary_part.added", **where, summary_index=0, part=part)
            )
        return events

    def _end(self) -> list[tuple[str, dict[str, Any]]]:
        if self.open is None:
            return []
        item, text, index = self.open["item"], self.open["text"], self.open["index"]
        self.open = None
        events = []
        if item["type"] == "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            events.append(self._ev("response.output_text.done", item_id=item["id"], output_index=index,
                                   content_index=0, text=text))  # fmt: skip
            events.append(self._ev("response.content_part.done", item_id=item["id"], output_index=index,
                                   content_index=0, part=part))  # fmt: skip
            item = _message_item(item["id"], text, "completed")
        else:
            part = {"type": "summary_text", "text": text}
            events.append(self._ev("response.reasoning_summary_text.done", item_id=item["id"],
                                   output_index=index, summary_index=0, text=text))  # fmt: skip
            events.append(self._ev("response.reasoning_summary_part.done", item_id=item["id"],
                                   output_index=index, summary_index=0, part=part))  # fmt: skip
            item = _reasoning_item(item["id"], text)
        self.output.append(item)
        events.append(self._ev("response.output_item.done", output_index=index, item=item))
        return events

    def _write(self, kind: str, text: str) -> list[tuple[str, dict[str, Any]]]:
        events = []
        if self.open is None or self.open["item"]["type"] != kind:
            events += self._end()
            item = (
                _message_item(new_id("msg"), "", "in_progress")
                if kind == "message"
                else _reasoning_item(new_id("rs"), "")
            )
            events += self._begin(item)
        assert self.open is not None
        self.open["text"] += text
        item_id, index = self.open["item"]["id"], self.open["index"]
        if kind == "message":
            events.append(self._ev("response.output_text.delta", item_id=item_id, output_index=index,
                                   content_index=0, delta=text))  # fmt: skip
        else:
            events.append(self._ev("response.reasoning_summary_text.delta", item_id=item_id,
                                   output_index=index, summary_index=0, delta=text))  # fmt: skip
        return events

    def convert(self, pb: inference_pb2.ChatResponse) -> list[tuple[str, dict[str, Any]]]:
        out = []
        if not self.started:
            self.started = True
            self.model = pb.model or self.model
            out.append(self._ev("response.created", response=self._response("in_progress")))
            out.append(self._ev("response.in_progress", response=self._response("in_progress")))
        m = pb.message
        if m.thinking:
            out += self._write("reasoning", m.thinking)
        if m.content:
            out += self._write("message", m.content)
        for tc in m.tool_calls:
            out += self._end()
            index, done = len(self.output), _call_item(new_id("fc"), tc)
            out.append(self._ev("response.output_item.added", output_index=index,
                                item=_call_item(done["id"], tc, "in_progress")))  # fmt: skip
            out.append(self._ev("response.function_call_arguments.delta", item_id=done["id"],
                                output_index=index, delta=done["arguments"]))  # fmt: skip
            out.append(self._ev("response.function_call_arguments.done", item_id=done["id"],
                                output_index=index, arguments=done["arguments"]))  # fmt: skip
            self.output.append(done)
            out.append(self._ev("response.output_item.done", output_index=index, item=done))
        if pb.done:
            if not self.output and self.open is None:
                out += self._write("message", "")  # an empty answer is still one message
            out += self._end()
            status, incomplete = _status(pb)
            final = self._response(status)
            final.update(incomplete_details=incomplete, usage=_usage(pb))
            # Always response.completed, with status "incomplete" when cut short: the
            # openai SDK's stream helper (responses.stream) waits for that event only.
            out.append(self._ev("response.completed", response=final))
        return out

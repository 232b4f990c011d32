"""The Responses API codec: requests as the Chat Completions body they mean, answers
as Response objects and stream events."""

from __future__ import annotations

import json

import pytest

from rest_shim.codec import responses
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2, types_pb2


def test_a_request_becomes_the_chat_it_means():
    pb, stream = responses.request_to_pb(
        {
            "model": "m",
            "instructions": "Be terse.",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
                {
                    "type": "function_call",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                },
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"role": "developer", "content": "Answer in French."},
            ],
            "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
            "max_output_tokens": 7,
            "temperature": 0,
            "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
            "stream": True,
        }
    )
    assert stream is True
    roles = [m.role for m in pb.messages]
    assert roles == ["system", "user", "assistant", "tool", "system"]
    assert pb.messages[2].tool_calls[0].function.name == "get_weather"
    assert dict(pb.messages[2].tool_calls[0].function.arguments) == {"city": "Paris"}
    assert (pb.messages[3].content, pb.messages[3].tool_call_id) == ("sunny", "call_1")
    assert pb.tools[0].function.name == "get_weather"
    assert (pb.options.num_predict, pb.options.temperature) == (7, 0.0)
    assert pb.format.HasField("schema")
    assert responses.request_to_pb({"model": "m", "input": "hi"})[0].messages[0].content == "hi"
    with pytest.raises(ShimError, match="input is required"):
        responses.request_to_pb({"model": "m"})


def _final(content: str = "", **kw) -> inference_pb2.ChatResponse:
    return inference_pb2.ChatResponse(
        model="m",
        message=types_pb2.Message(role="assistant", content=content, **kw),
        done=True,
        done_reason=types_pb2.DONE_REASON_STOP,
        prompt_eval_count=5,
        prompt_cached_count=2,
        eval_count=3,
    )


def test_a_whole_response():
    body = responses.response_from_pb(_final("Hi there"), "resp_1", 9)
    assert (body["id"], body["object"], body["status"], body["created_at"]) == (
        "resp_1",
        "response",
        "completed",
        9,
    )
    (message,) = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "output_text", "text": "Hi there", "annotations": []}]
    assert body["usage"] == {
        "input_tokens": 5,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 8,
    }
    call = types_pb2.ToolCall(id="call_1", function=types_pb2.ToolCallFunction(name="f"))
    call.function.arguments.update({"x": 1})
    (fc,) = responses.response_from_pb(_final(tool_calls=[call]), "r", 1)["output"]
    assert (fc["type"], fc["call_id"], fc["name"], json.loads(fc["arguments"])) == (
        "function_call",
        "call_1",
        "f",
        {"x": 1},
    )
    cut = _final("Hi")
    cut.done_reason = types_pb2.DONE_REASON_LENGTH
    body = responses.response_from_pb(cut, "r", 1)
    assert (body["status"], body["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})


def test_stream_events_in_order():
    events = responses.ResponseEvents("m")
    chunk = inference_pb2.ChatResponse(model="m", message=types_pb2.Message(role="assistant", content="Hi"))
    out = events.convert(chunk) + events.convert(_final(" there"))
    names = [name for name, _ in out]
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["sequence_number"] for _, data in out] == list(range(len(out)))
    assert out[6][1]["text"] == "Hi there"
    done = out[-1][1]["response"]
    assert done["output"][0]["content"][0]["text"] == "Hi there" and done["usage"]["total_tokens"] == 8

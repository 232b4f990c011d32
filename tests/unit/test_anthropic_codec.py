"""Golden tests for the Anthropic Messages codec (rest_shim/codec/anthropic.py)."""

from __future__ import annotations

import pytest

from rest_shim.codec import anthropic
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2, types_pb2


def test_request_blocks_become_messages():
    pb, stream = anthropic.messages_request_to_pb(
        {
            "model": "m",
            "max_tokens": 9,
            "system": [{"type": "text", "text": "Be kind."}],
            "stop_sequences": ["END"],
            "thinking": {"type": "enabled", "budget_tokens": 100},
            "tools": [
                {"name": "f", "description": "d", "input_schema": {"type": "object", "properties": {}}}
            ],
            "messages": [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "hmm"},
                        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}],
                },
            ],
        }
    )
    assert not stream and pb.think.enabled
    assert [m.role for m in pb.messages] == ["system", "user", "assistant", "tool"]
    assert pb.messages[0].content == "Be kind." and pb.messages[2].thinking == "hmm"
    assert pb.messages[2].tool_calls[0].function.name == "f" and dict(
        pb.messages[2].tool_calls[0].function.arguments
    ) == {"a": 1}
    assert (pb.messages[3].content, pb.messages[3].tool_name, pb.messages[3].tool_call_id) == (
        "ok",
        "f",
        "toolu_1",
    )
    assert (pb.options.num_predict, list(pb.options.stop), pb.tools[0].function.name) == (9, ["END"], "f")


@pytest.mark.parametrize("max_tokens", [None, 0, -1, "5"])
def test_max_tokens_is_required(max_tokens):
    with pytest.raises(ShimError) as err:
        anthropic.messages_request_to_pb({"model": "m", "max_tokens": max_tokens, "messages": []})
    assert err.value.message == "max_tokens is required and must be positive"


def _chunk(content="", done=False, **kw):
    return inference_pb2.ChatResponse(
        model="m",
        message=types_pb2.Message(
            role="assistant", content=content, **{k: v for k, v in kw.items() if k != "reason"}
        ),
        done=done,
        done_reason=kw.get("reason", types_pb2.DONE_REASON_UNSPECIFIED),
        prompt_eval_count=4 if done else 0,
        prompt_cached_count=3 if done else 0,
        eval_count=2 if done else 0,
    )


def test_stream_events_in_order():
    ev = anthropic.StreamEvents("m")
    call = types_pb2.ToolCall(id="call_x", function=types_pb2.ToolCallFunction(name="f"))
    call.function.arguments.update({"a": 1})
    names = []
    for pb in (
        _chunk(thinking="t"),
        _chunk("Hel"),
        _chunk("lo"),
        _chunk(tool_calls=[call]),
        _chunk("", True, reason=types_pb2.DONE_REASON_STOP),
    ):
        names += ev.convert(pb)
    assert [n for n, _ in names] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert names[9][1]["delta"] == {"type": "input_json_delta", "partial_json": '{"a":1}'}
    assert names[11][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"input_tokens": 4, "output_tokens": 2, "cache_read_input_tokens": 3},
    }


def test_whole_message_and_error_envelope():
    body = anthropic.message_from_pb(_chunk("Hi", True, reason=types_pb2.DONE_REASON_LENGTH), "msg_1")
    assert body["content"] == [{"type": "text", "text": "Hi"}] and body["stop_reason"] == "max_tokens"
    # input_tokens is the whole prompt (Ollama's count); the cache's share beside it.
    assert body["usage"] == {"input_tokens": 4, "output_tokens": 2, "cache_read_input_tokens": 3}
    assert anthropic.error_body(503, "busy") == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "busy"},
    }

"""Golden tests for the OpenAI-compatible codec (rest_shim/codec/openai.py)."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from rest_shim.codec import openai as oai
from rest_shim.errors import ShimError
from tokenwire.v1 import inference_pb2, models_pb2, types_pb2


def test_chat_request_defaults_and_fields():
    pb, stream, usage = oai.chat_request_to_pb(
        {
            "model": "m",
            "messages": [
                {"role": "User", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning": "hmm",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"x": 1}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ],
            "max_tokens": 7,
            "stop": "END",
            "seed": 3,
            "stream": True,
            "stream_options": {"include_usage": True},
            "response_format": {"type": "json_object"},
            "reasoning_effort": "minimal",
        }
    )
    assert (stream, usage) == (True, True)
    assert pb.options.temperature == 1.0 and pb.options.top_p == 1.0
    assert (pb.options.num_predict, list(pb.options.stop), pb.options.seed) == (7, ["END"], 3)
    assert pb.messages[0].role == "user" and pb.messages[0].content == "a\nb"
    assert pb.messages[1].thinking == "hmm" and pb.messages[1].tool_calls[0].function.name == "f"
    assert dict(pb.messages[1].tool_calls[0].function.arguments) == {"x": 1}
    assert (pb.messages[2].tool_name, pb.messages[2].tool_call_id) == ("f", "call_1")
    assert pb.format.json and pb.think.level == types_pb2.THINK_LEVEL_LOW
    none, _, _ = oai.chat_request_to_pb(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "none"}
    )
    assert none.think.HasField("enabled") and not none.think.enabled


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "m", "messages": []}, "[] is too short - 'messages'"),
        (
            {"model": "m", "messages": [{"role": "user", "content": 5}]},
            "invalid message content type: float64",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{"}}]}
                ],
            },
            "invalid tool call arguments",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "huge"},
            "invalid reasoning value: 'huge' "
            '(must be "minimal", "low", "medium", "high", "max", or "none")',
        ),
    ],
)
def test_chat_request_errors(body, message):
    with pytest.raises(ShimError) as err:
        oai.chat_request_to_pb(body)
    assert (err.value.status, err.value.message) == (400, message)


def _chat(content="", done=False, reason=types_pb2.DONE_REASON_UNSPECIFIED, **kw):
    msg = types_pb2.Message(role="assistant", content=content, **kw)
    return inference_pb2.ChatResponse(
        model="m",
        message=msg,
        done=done,
        done_reason=reason,
        prompt_eval_count=5 if done else 0,
        prompt_cached_count=2 if done else 0,
        eval_count=3 if done else 0,
    )


def test_chat_completion_response_shape():
    call = types_pb2.ToolCall(id="call_ab", function=types_pb2.ToolCallFunction(index=0, name="f"))
    call.function.arguments.update({"city": "Paris"})
    body = oai.chat_completion_from_pb(
        _chat("", True, types_pb2.DONE_REASON_STOP, tool_calls=[call]), "chatcmpl-1", 9
    )
    assert body == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 9,
        "model": "m",
        "system_fingerprint": "fp_ollama",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call_ab",
                            "index": 0,
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 3,
            "total_tokens": 8,
            "prompt_tokens_details": {"cached_tokens": 2},
        },
    }


def test_chat_chunks_split_reasoning_and_finish_with_usage():
    chunks = oai.ChatChunks(include_usage=True)
    first = chunks.convert(_chat("Hi", thinking="let me think"))
    assert [c["choices"][0]["delta"] for c in first] == [
        {"role": "assistant", "content": "", "reasoning": "let me think"},
        {"role": "assistant", "content": "Hi"},
    ]
    last = chunks.convert(_chat("", True, types_pb2.DONE_REASON_LENGTH))
    assert last[0]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "length"}]
    assert last[1]["choices"] == [] and last[1]["usage"]["total_tokens"] == 8
    assert {c["id"] for c in first + last} == {chunks.id} and chunks.id.startswith("chatcmpl-")


def test_completion_request_and_chunks():
    pb, stream, _ = oai.completion_request_to_pb({"model": "m", "prompt": "p", "top_p": 0, "logprobs": 2})
    assert (pb.prompt, pb.options.top_p, pb.logprobs, pb.top_logprobs, stream) == ("p", 1.0, True, 2, False)
    with pytest.raises(ShimError):
        oai.completion_request_to_pb({"model": "m", "prompt": ["a"]})
    out = oai.CompletionChunks(False).convert(inference_pb2.GenerateResponse(model="m", response="x"))
    assert out[0]["choices"] == [{"text": "x", "index": 0, "finish_reason": None}] and "usage" not in out[0]


def test_embeddings_request_and_base64_response():
    pb, enc = oai.embeddings_request_to_pb({"model": "m", "input": "", "dimensions": 4})
    assert (list(pb.input), pb.dimensions, enc) == ([""], 4, "float")
    resp = inference_pb2.EmbedResponse(model="m", embeddings=[inference_pb2.Embedding(values=[0.5, -0.25])])
    resp.prompt_eval_count = 2
    body = oai.embeddings_from_pb(resp, "base64")
    assert np.frombuffer(base64.b64decode(body["data"][0]["embedding"]), "<f4").tolist() == [0.5, -0.25]
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2} and body["object"] == "list"
    assert oai.embeddings_from_pb(resp, "float")["data"][0] == {
        "object": "embedding",
        "embedding": [0.5, -0.25],
        "index": 0,
    }


def test_model_entry_and_error_envelope():
    ts = Timestamp(seconds=1700000000)
    m = models_pb2.ListModelsResponseModel(name="team/x:v1", modified_at=ts)
    assert oai.model_from_pb(m) == {
        "id": "team/x:v1",
        "object": "model",
        "created": 1700000000,
        "owned_by": "team",
    }
    assert oai.model_from_pb(models_pb2.ListModelsResponseModel(name="x:latest"))["owned_by"] == "library"
    assert oai.error_body(500, "boom") == {
        "error": {"message": "boom", "type": "api_error", "param": None, "code": None}
    }


def test_max_completion_tokens_bounds_the_generation_and_wins_over_max_tokens():
    def num_predict(**extra):
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}
        return oai.chat_request_to_pb(body)[0].options.num_predict

    assert num_predict(max_completion_tokens=8) == 8  # what langchain-openai sends
    assert num_predict(max_tokens=16, max_completion_tokens=8) == 8
    assert num_predict(max_tokens=16) == 16


def test_logprobs_on_chat_completions_and_legacy_completions():
    def with_logprobs(pb):
        top = [types_pb2.TokenLogprob(token="Hi", logprob=-0.25, bytes=b"Hi")]
        pb.logprobs.add(token="Hi", logprob=-0.25, bytes=b"Hi", top_logprobs=top)
        pb.logprobs.add(token="!", logprob=-0.5, bytes=b"!")
        return pb

    chat = oai.chat_completion_from_pb(with_logprobs(inference_pb2.ChatResponse(model="m")), "c", 1)
    assert chat["choices"][0]["logprobs"] == {
        "content": [
            {"token": "Hi", "logprob": -0.25, "bytes": [72, 105],
             "top_logprobs": [{"token": "Hi", "logprob": -0.25, "bytes": [72, 105]}]},
            {"token": "!", "logprob": -0.5, "bytes": [33], "top_logprobs": []},
        ]
    }  # fmt: skip
    chunks = oai.CompletionChunks(False)
    first = chunks.convert(with_logprobs(inference_pb2.GenerateResponse(model="m", response="Hi!")))
    second = chunks.convert(with_logprobs(inference_pb2.GenerateResponse(model="m", response="Hi!")))
    assert first[0]["choices"][0]["logprobs"] == {
        "tokens": ["Hi", "!"],
        "token_logprobs": [-0.25, -0.5],
        "top_logprobs": [{"Hi": -0.25}, {}],
        "text_offset": [0, 2],
    }
    assert second[0]["choices"][0]["logprobs"]["text_offset"] == [3, 5]  # offsets run on
    assert (
        "logprobs"
        not in oai.chat_completion_from_pb(inference_pb2.ChatResponse(model="m"), "c", 1)["choices"][0]
    )

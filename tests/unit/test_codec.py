"""Shim codec: Ollama JSON <-> protobuf, exact shapes."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from rest_shim.codec.chat import chat_request_to_pb, chat_response_from_pb
from rest_shim.codec.common import options_to_pb, rfc3339nano
from rest_shim.codec.embed import embed_request_to_pb, embed_response_from_pb, embeddings_request_to_pb
from rest_shim.codec.generate import generate_request_to_pb, generate_response_from_pb
from rest_shim.errors import ShimError
from rest_shim.settings import parse_ollama_host
from tokenwire.v1 import inference_pb2, types_pb2
from tokenwire_common import gojson
from tokenwire_common.status import http_status


def ts(seconds: int, nanos: int) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=nanos)


def test_rfc3339nano_trims_trailing_zeros():
    assert rfc3339nano(ts(1700000000, 123456789)) == "2023-11-14T22:13:20.123456789Z"
    assert rfc3339nano(ts(1700000000, 120000000)) == "2023-11-14T22:13:20.12Z"
    assert rfc3339nano(ts(1700000000, 0)) == "2023-11-14T22:13:20Z"


def test_generate_request_to_pb_keeps_presence():
    pb = generate_request_to_pb(
        {
            "model": "m",
            "prompt": "p",
            "system": "",
            "stream": False,
            "keep_alive": "5m",
            "format": "json",
            "think": "high",
            "options": {"temperature": 0, "num_predict": 16.0, "stop": ["a"], "unknown": 1, "numa": True},
            "images": ["aGk="],
        }
    )
    assert pb.HasField("system") and pb.system == ""
    assert not pb.HasField("template")
    assert pb.HasField("stream") and pb.stream is False
    assert pb.keep_alive.ToNanoseconds() == 300 * 10**9
    assert pb.format.json is True
    assert pb.think.level == types_pb2.THINK_LEVEL_HIGH
    assert pb.options.HasField("temperature") and pb.options.temperature == 0
    assert pb.options.num_predict == 16 and list(pb.options.stop) == ["a"]
    assert not pb.options.HasField("top_k")
    assert list(pb.images) == [b"hi"]


def test_format_schema_and_invalid_format():
    pb = generate_request_to_pb(
        {"model": "m", "format": {"type": "object", "properties": {"a": {"type": "string"}}}}
    )
    assert pb.format.schema["type"] == "object"
    with pytest.raises(ShimError) as err:
        generate_request_to_pb({"model": "m", "format": "yaml"})
    assert err.value.status == 400
    assert err.value.message == 'invalid format: "yaml"; expected "json" or a valid JSON Schema object'


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": "hot"}, 'option "temperature" must be of type float32'),
        ({"num_predict": "x"}, 'option "num_predict" must be of type integer'),
        ({"use_mmap": 1}, 'option "use_mmap" must be of type boolean'),
        ({"stop": "x"}, 'option "stop" must be of type array'),
    ],
)
def test_wrong_option_types(options, message):
    with pytest.raises(ShimError) as err:
        options_to_pb(options)
    assert (err.value.status, err.value.message) == (400, message)


def test_generate_chunk_shape():
    pb = inference_pb2.GenerateResponse(model="m", created_at=ts(1700000000, 5), response="Hi")
    assert gojson.dumps(generate_response_from_pb(pb)) == (
        '{"model":"m","created_at":"2023-11-14T22:13:20.000000005Z","response":"Hi","done":false}'
    )


def test_generate_final_shape_omits_empty_metrics():
    pb = inference_pb2.GenerateResponse(
        model="m",
        created_at=ts(1700000000, 0),
        done=True,
        done_reason=types_pb2.DONE_REASON_STOP,
        context=[1, 2],
        total_duration=10,
        prompt_eval_count=3,
        prompt_eval_duration=4,
        eval_count=5,
        eval_duration=6,
    )
    assert gojson.dumps(generate_response_from_pb(pb)) == (
        '{"model":"m","created_at":"2023-11-14T22:13:20Z","response":"","done":true,"done_reason":"stop",'
        '"context":[1,2],"total_duration":10,"prompt_eval_count":3,"prompt_eval_duration":4,"eval_count":5,'
        '"eval_duration":6}'
    )


def test_chat_roundtrip_shapes():
    pb = chat_request_to_pb({"model": "m", "messages": [{"role": "User", "content": "hi"}]})
    assert pb.messages[0].role == "user"
    out = inference_pb2.ChatResponse(
        model="m",
        created_at=ts(1700000000, 0),
        message=types_pb2.Message(role="assistant", content=""),
        done=True,
        done_reason=types_pb2.DONE_REASON_LOAD,
    )
    assert gojson.dumps(chat_response_from_pb(out)) == (
        '{"model":"m","created_at":"2023-11-14T22:13:20Z","message":{"role":"assistant","content":""},'
        '"done_reason":"load","done":true}'
    )


def test_go_json_escapes_html():
    assert (
        gojson.dumps({"response": "<|im_end|> & more"})
        == '{"response":"\\u003c|im_end|\\u003e \\u0026 more"}'
    )


def test_status_table():
    import grpc

    expected = {
        grpc.StatusCode.INVALID_ARGUMENT: 400,
        grpc.StatusCode.FAILED_PRECONDITION: 400,
        grpc.StatusCode.UNAUTHENTICATED: 401,
        grpc.StatusCode.PERMISSION_DENIED: 403,
        grpc.StatusCode.NOT_FOUND: 404,
        grpc.StatusCode.CANCELLED: 499,
        grpc.StatusCode.INTERNAL: 500,
        grpc.StatusCode.UNKNOWN: 500,
        grpc.StatusCode.UNIMPLEMENTED: 501,
        grpc.StatusCode.RESOURCE_EXHAUSTED: 503,
        grpc.StatusCode.UNAVAILABLE: 503,
        grpc.StatusCode.DEADLINE_EXCEEDED: 504,
        grpc.StatusCode.OK: 200,
        grpc.StatusCode.OUT_OF_RANGE: 400,
        grpc.StatusCode.ALREADY_EXISTS: 409,
        grpc.StatusCode.ABORTED: 409,
        grpc.StatusCode.DATA_LOSS: 500,
    }
    assert set(expected) == set(grpc.StatusCode), "every status has its row"
    assert {code: http_status(code) for code in expected} == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("127.0.0.1", 11434)),
        ("0.0.0.0", ("0.0.0.0", 11434)),
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        (":9000", ("0.0.0.0", 9000)),
        ("http://example.internal", ("example.internal", 80)),
        ("https://example.internal", ("example.internal", 443)),
        ("[::1]:5000", ("::1", 5000)),
        ('"127.0.0.1:0"', ("127.0.0.1", 0)),
    ],
)
def test_ollama_host(value, expected):
    assert parse_ollama_host(value) == expected


def test_embed_request_input_forms():
    assert list(embed_request_to_pb({"model": "m", "input": "a"}).input) == ["a"]
    assert list(embed_request_to_pb({"model": "m", "input": ["a", "b"]}).input) == ["a", "b"]
    assert list(embed_request_to_pb({"model": "m", "input": ""}).input) == []
    assert list(embed_request_to_pb({"model": "m"}).input) == []
    pb = embed_request_to_pb(
        {"model": "m", "input": "a", "truncate": False, "dimensions": 8, "keep_alive": "1m"}
    )
    assert (pb.HasField("truncate"), pb.truncate, pb.dimensions, pb.keep_alive.ToSeconds()) == (
        True,
        False,
        8,
        60,
    )
    assert not embed_request_to_pb({"model": "m"}).HasField("truncate")
    for bad in ([1], {"a": 1}, 3):
        with pytest.raises(ShimError) as err:
            embed_request_to_pb({"model": "m", "input": bad})
        assert (err.value.status, err.value.message) == (400, "invalid input type")
    assert embeddings_request_to_pb({"model": "m", "prompt": "p"}).prompt == "p"


def test_embed_response_writes_float32_digits_and_omits_zero_metrics():
    pb = inference_pb2.EmbedResponse(
        model="m", embeddings=[inference_pb2.Embedding(values=[0.1, -0.5, 1e-7])]
    )
    body = embed_response_from_pb(pb)
    # 0.1 as float32 is 0.100000001490116...; Go writes the shortest float32 digits, and
    # so do we (only the exponent spelling differs: Go writes 1e-7, Python 1e-07).
    assert gojson.dumps(body) == '{"model":"m","embeddings":[[0.1,-0.5,1e-07]]}'
    pb.prompt_eval_count = 3
    assert list(embed_response_from_pb(pb)) == ["model", "embeddings", "prompt_eval_count"]


def _with_logprobs(pb):
    top = [
        types_pb2.TokenLogprob(token="Hi", logprob=-0.25, bytes=b"Hi"),
        types_pb2.TokenLogprob(token="A", logprob=-2.0, bytes=b"A"),
    ]
    pb.logprobs.add(token="Hi", logprob=-0.25, bytes=b"Hi", top_logprobs=top)
    pb.logprobs.add(token="!", logprob=-0.5, bytes=b"!")
    return pb


LOGPROBS_JSON = [
    {
        "token": "Hi",
        "logprob": -0.25,
        "bytes": [72, 105],
        "top_logprobs": [
            {"token": "Hi", "logprob": -0.25, "bytes": [72, 105]},
            {"token": "A", "logprob": -2.0, "bytes": [65]},
        ],
    },
    {"token": "!", "logprob": -0.5, "bytes": [33]},
]


def test_logprobs_take_ollamas_shape_on_generate_and_chat():
    from rest_shim.codec.chat import chat_response_from_pb
    from rest_shim.codec.generate import generate_response_from_pb

    gen = generate_response_from_pb(_with_logprobs(inference_pb2.GenerateResponse(model="m", response="Hi!")))
    assert list(gen)[-1] == "logprobs" and gen["logprobs"] == LOGPROBS_JSON
    chat = chat_response_from_pb(_with_logprobs(inference_pb2.ChatResponse(model="m")))
    assert chat["logprobs"] == LOGPROBS_JSON
    assert "logprobs" not in generate_response_from_pb(inference_pb2.GenerateResponse(model="m"))

"""The gRPC server with the real model: streaming, metrics, errors, health, reflection."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tests.conftest import MODEL
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, models_pb2, models_pb2_grpc, types_pb2

PROMPT = "Why is the sky blue?"


def greedy(**kw) -> types_pb2.Options:
    return types_pb2.Options(temperature=0, seed=42, **kw)


def generate(channel, **kw) -> list[inference_pb2.GenerateResponse]:
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    return list(stub.Generate(inference_pb2.GenerateRequest(**kw), timeout=120))


def test_streamed_generation_has_consistent_metrics(channel):
    chunks = generate(channel, model=MODEL, prompt=PROMPT, options=greedy(num_predict=32))
    *body, final = chunks
    assert all(not c.done for c in body) and final.done
    text = [c for c in body if c.response]
    assert len(text) == len(body) and text, "every streamed chunk before the last carries text"
    assert final.response == ""
    assert final.done_reason in (types_pb2.DONE_REASON_STOP, types_pb2.DONE_REASON_LENGTH)
    assert final.eval_count == len(text)
    assert final.prompt_eval_count > 0
    assert final.prompt_eval_duration > 0 and final.eval_duration > 0
    assert final.total_duration >= final.prompt_eval_duration + final.eval_duration
    assert final.load_duration > 0
    assert final.total_duration >= final.load_duration + final.prompt_eval_duration + final.eval_duration
    assert len(final.context) >= final.prompt_eval_count + final.eval_count
    assert all(c.model == MODEL and c.created_at.seconds > 0 for c in chunks)


def test_num_predict_ends_with_length(channel):
    *_, final = generate(
        channel, model=MODEL, prompt="Count from one to one hundred.", options=greedy(num_predict=5)
    )
    assert final.done_reason == types_pb2.DONE_REASON_LENGTH
    assert final.eval_count == 5


def test_stream_false_is_one_message_equal_to_the_stream(channel):
    streamed = generate(channel, model=MODEL, prompt=PROMPT, options=greedy(num_predict=24))
    single = generate(channel, model=MODEL, prompt=PROMPT, options=greedy(num_predict=24), stream=False)
    assert len(single) == 1 and single[0].done
    assert single[0].response == "".join(c.response for c in streamed)
    assert single[0].eval_count == streamed[-1].eval_count


def test_empty_prompt_loads_the_model(channel):
    (only,) = generate(channel, model=MODEL, prompt="")
    assert only.done and only.done_reason == types_pb2.DONE_REASON_LOAD and only.response == ""


def test_unknown_model_is_not_found(channel):
    with pytest.raises(grpc.RpcError) as err:
        generate(channel, model="x", prompt="hi")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == "model 'x' not found"


def test_invalid_name_and_raw_mode_conflicts_are_invalid_argument(channel):
    with pytest.raises(grpc.RpcError) as err:
        generate(channel, model="../../etc/passwd", prompt="hi")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "invalid model name"
    with pytest.raises(grpc.RpcError) as err:
        generate(channel, model=MODEL, prompt="hi", raw=True, system="be brief")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "raw mode does not support template, system, or context"


def test_version(channel):
    stub = models_pb2_grpc.VersionServiceStub(channel)
    assert stub.GetVersion(models_pb2.GetVersionRequest(), timeout=10).version == "0.33.0"


def test_health_check_reports_serving(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    assert stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status == serving
    name = "tokenwire.v1.InferenceService"
    assert stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10).status == serving
    with pytest.raises(grpc.RpcError) as err:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_tokenwire_services(channel):
    db = ProtoReflectionDescriptorDatabase(channel)
    services = set(db.get_services())
    assert {
        "tokenwire.v1.InferenceService",
        "tokenwire.v1.ModelService",
        "tokenwire.v1.VersionService",
        "grpc.health.v1.Health",
    } <= services
    # The full schema comes over reflection, so grpcurl-style clients need no .proto files.
    service = DescriptorPool(db).FindServiceByName("tokenwire.v1.InferenceService")
    method = service.methods_by_name["Generate"]
    assert method.input_type.fields_by_name["options"].message_type.full_name == "tokenwire.v1.Options"
    assert method.output_type.full_name == "tokenwire.v1.GenerateResponse"


def test_cancelled_call_frees_the_slot(tmp_path):
    """With one slot, a second request can only run once the cancelled one stopped."""
    from tests.procs import start_server

    proc = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="1")
    try:
        with grpc.insecure_channel(proc.address) as ch:
            stub = inference_pb2_grpc.InferenceServiceStub(ch)
            # Long enough to run for over a minute if nothing stopped it.
            endless = stub.Generate(
                inference_pb2.GenerateRequest(
                    model=MODEL,
                    prompt="Tell me a long story.",
                    options=greedy(num_predict=100_000, num_ctx=8192),
                )
            )
            next(endless)
            next(endless)
            endless.cancel()
            quick = list(
                stub.Generate(
                    inference_pb2.GenerateRequest(
                        model=MODEL, prompt=PROMPT, options=greedy(num_predict=4, num_ctx=8192)
                    ),
                    timeout=30,
                )
            )
            assert quick[-1].done and quick[-1].eval_count == 4
    finally:
        proc.stop()


def test_a_character_cut_by_num_predict_is_held_back_not_replaced(channel):
    """Greedy SmolLM2's third token here is the first bytes of 章: Ollama holds back the
    partial character; it must not end the text as U+FFFD."""
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    texts = []
    for n in (2, 3, 4):
        options = types_pb2.Options(num_predict=n, temperature=0)
        request = inference_pb2.GenerateRequest(
            model=MODEL, prompt="日本語の文章を書いてください。日本語", raw=True, options=options
        )
        texts.append("".join(c.response for c in stub.Generate(request, timeout=60)))
    assert texts == ["の文", "の文", "の文章"]

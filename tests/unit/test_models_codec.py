"""Golden tests for the model-management codec directions (rest_shim/codec/models.py)."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from rest_shim.codec import models as codec
from rest_shim.errors import ShimError
from tokenwire.v1 import models_pb2, types_pb2
from tokenwire_common import gojson

TS = Timestamp(seconds=1700000000, nanos=120000000)
DETAILS = types_pb2.ModelDetails(
    format="gguf", family="llama", families=["llama"], parameter_size="134.52M", quantization_level="Q4_1"
)


def test_tags_golden():
    pb = models_pb2.ListModelsResponse(
        models=[
            models_pb2.ListModelsResponseModel(
                name="smollm2:135m",
                model="smollm2:135m",
                modified_at=TS,
                size=98,
                digest="ab",
                details=DETAILS,
            )
        ]
    )
    assert gojson.dumps(codec.list_models_response_from_pb(pb)) == (
        '{"models":[{"name":"smollm2:135m","model":"smollm2:135m","modified_at":"2023-11-14T22:13:20.12Z",'
        '"size":98,"digest":"ab","details":{"parent_model":"","format":"gguf","family":"llama",'
        '"families":["llama"],"parameter_size":"134.52M","quantization_level":"Q4_1"}}]}'
    )
    assert codec.list_models_response_from_pb(models_pb2.ListModelsResponse()) == {"models": []}


def test_ps_golden():
    pb = models_pb2.ListRunningModelsResponse(
        models=[
            models_pb2.ListRunningModelsResponseModel(
                name="m:latest",
                model="m:latest",
                size=5,
                digest="cd",
                details=DETAILS,
                expires_at=TS,
                context_length=4096,
            )
        ]
    )
    body = codec.list_running_response_from_pb(pb)["models"][0]
    assert list(body) == [
        "name",
        "model",
        "size",
        "digest",
        "details",
        "expires_at",
        "size_vram",
        "context_length",
    ]
    assert (body["expires_at"], body["size_vram"], body["context_length"]) == (
        "2023-11-14T22:13:20.12Z",
        0,
        4096,
    )


def test_show_request_and_response():
    pb = codec.show_request_to_pb({"name": "m", "verbose": True, "system": "S"})
    assert (pb.model, pb.verbose, pb.system) == ("m", True, "S")
    with pytest.raises(ShimError) as err:
        codec.show_request_to_pb({"model": 5})
    assert (
        err.value.message
        == "json: cannot unmarshal number into Go struct field ShowRequest.model of type string"
    )
    resp = models_pb2.ShowModelResponse(
        modelfile="FROM x", template="{{ .Prompt }}", details=DETAILS, modified_at=TS
    )
    resp.model_info.update({"general.architecture": "llama", "llama.context_length": 8192})
    resp.capabilities.append("completion")
    body = codec.show_response_from_pb(resp)
    assert list(body) == ["modelfile", "template", "details", "model_info", "capabilities", "modified_at"]
    assert body["model_info"]["llama.context_length"] == 8192 and isinstance(
        body["model_info"]["llama.context_length"], int
    )


def test_create_request_and_progress():
    pb = codec.create_request_to_pb(
        {
            "model": "new",
            "from": "base",
            "files": {"m.gguf": "sha256:aa"},
            "parameters": {"temperature": 0.5, "stop": ["x"]},
            "license": "MIT",
            "system": "S",
            "stream": False,
            "quantization": "q8_0",
        }
    )
    assert (pb.model, getattr(pb, "from"), dict(pb.files), list(pb.license), pb.system) == (
        "new",
        "base",
        {"m.gguf": "sha256:aa"},
        ["MIT"],
        "S",
    )
    assert pb.HasField("stream") and not pb.stream and pb.quantize == "q8_0"
    with pytest.raises(ShimError):
        codec.create_request_to_pb({"model": "x", "files": {"a": 1}})
    with pytest.raises(ShimError):
        codec.create_request_to_pb({"model": "x", "license": [1]})
    progress = models_pb2.CreateModelResponse(
        status="pulling abc", digest="sha256:abc", total=10, completed=0
    )
    assert codec.progress_from_pb(progress) == {"status": "pulling abc", "digest": "sha256:abc", "total": 10}
    assert codec.progress_from_pb(models_pb2.CreateModelResponse(status="success")) == {"status": "success"}


def test_pull_and_push_requests_and_progress():
    # Reference §1.13: `model` (legacy `name`), `insecure`, `stream`; username and
    # password are accepted and ignored.
    pb = codec.pull_request_to_pb({"name": "llama3.2", "insecure": True, "username": "u", "password": "p"})
    assert (pb.model, pb.insecure, pb.HasField("stream")) == ("llama3.2", True, False)
    pb = codec.pull_request_to_pb({"model": "m", "name": "legacy", "stream": False})
    assert (pb.model, pb.insecure, pb.HasField("stream"), pb.stream) == ("m", False, True, False)
    pb = codec.push_request_to_pb({"model": "host:5000/ns/m:tag", "insecure": True})
    assert (pb.model, pb.insecure) == ("host:5000/ns/m:tag", True)
    assert codec.push_request_to_pb({}).model == ""
    with pytest.raises(ShimError) as e:
        codec.pull_request_to_pb({"model": "m", "insecure": "yes"})
    assert e.value.status == 400
    assert e.value.message == (
        "json: cannot unmarshal string into Go struct field PullRequest.insecure of type bool"
    )
    with pytest.raises(ShimError) as e:
        codec.push_request_to_pb({"model": 3})
    assert (
        e.value.message
        == "json: cannot unmarshal number into Go struct field PushRequest.model of type string"
    )
    line = models_pb2.PullModelResponse(
        status="pulling b179c9523d0e", digest="sha256:b1", total=98, completed=40
    )
    assert gojson.dumps(codec.progress_from_pb(line)) == (
        '{"status":"pulling b179c9523d0e","digest":"sha256:b1","total":98,"completed":40}'
    )
    line = models_pb2.PushModelResponse(status="pushing manifest")
    assert gojson.dumps(codec.progress_from_pb(line)) == '{"status":"pushing manifest"}'

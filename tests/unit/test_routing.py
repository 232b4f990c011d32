"""The model header: what it carries, and TOKENWIRE_MODEL_SPREAD's buckets."""

from __future__ import annotations

from rest_shim.calls import routing_key
from tokenwire.v1 import inference_pb2, models_pb2
from tokenwire_common import wire


def test_the_header_names_the_model_a_request_is_about():
    assert wire.request_model(inference_pb2.GenerateRequest(model="a:1b")) == "a:1b"
    assert wire.request_model(models_pb2.CopyModelRequest(source="a", destination="b")) == "a"
    assert wire.request_model(models_pb2.ListModelsRequest()) == ""
    assert wire.model_header("a:1b") == (("x-tokenwire-model", "a:1b"),)
    assert wire.model_header("") == () and wire.model_header("naïve") == () and wire.model_header("a b") == ()


def test_spread_gives_n_buckets_per_model():
    assert routing_key("m", 1) == "m" and routing_key("", 4) == ""
    seen = {routing_key("m", 4) for _ in range(400)}
    assert seen == {"m#0", "m#1", "m#2", "m#3"}

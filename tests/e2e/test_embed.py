"""Embed and Embeddings with the real model, over gRPC and through the shim."""

from __future__ import annotations

import math

import grpc
import httpx
import pytest

from tests.conftest import MODEL
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2


def norm(v) -> float:
    return math.sqrt(sum(x * x for x in v))


def test_two_inputs_are_unit_length_and_the_same_input_gives_the_same_vector(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    texts = ["why is the sky blue?", "the grass is green", "why is the sky blue?"]
    resp = stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=texts), timeout=120)
    vecs = [list(e.values) for e in resp.embeddings]
    assert len(vecs) == 3 and len(vecs[0]) == 576
    assert all(abs(norm(v) - 1) < 1e-5 for v in vecs)
    assert vecs[0] == vecs[2] and vecs[0] != vecs[1]
    # Each input alone gives the vector it got in the shared batch.
    alone = stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=[texts[1]]), timeout=120)
    assert all(
        math.isclose(a, b, abs_tol=1e-5) for a, b in zip(alone.embeddings[0].values, vecs[1], strict=True)
    )
    first = stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=[texts[0]]), timeout=120)
    assert resp.prompt_eval_count == 2 * first.prompt_eval_count + alone.prompt_eval_count
    assert resp.total_duration >= resp.load_duration > 0


def test_dimensions_truncate_and_renormalise(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    full = (
        stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=["hello"]), timeout=120).embeddings[0].values
    )
    cut = stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=["hello"], dimensions=64), timeout=120)
    v = list(cut.embeddings[0].values)
    assert len(v) == 64 and abs(norm(v) - 1) < 1e-5
    scale = norm(full[:64])
    assert all(math.isclose(a, b / scale, abs_tol=1e-5) for a, b in zip(v, full[:64], strict=True))


def test_too_long_input_is_cut_or_refused(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    long = "word " * 200
    small = types_pb2.Options(num_ctx=64)
    cut = stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=[long], options=small), timeout=120)
    assert cut.prompt_eval_count == 64 and len(cut.embeddings) == 1
    with pytest.raises(grpc.RpcError) as err:
        stub.Embed(
            inference_pb2.EmbedRequest(model=MODEL, input=[long], truncate=False, options=small), timeout=120
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "the input length exceeds the context length"


def test_legacy_embeddings_are_raw_and_match_embed_direction(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    raw = list(
        stub.Embeddings(inference_pb2.EmbeddingsRequest(model=MODEL, prompt="hello"), timeout=120).embedding
    )
    unit = (
        stub.Embed(inference_pb2.EmbedRequest(model=MODEL, input=["hello"]), timeout=120).embeddings[0].values
    )
    assert norm(raw) > 2  # not normalised
    assert all(math.isclose(a / norm(raw), b, abs_tol=1e-5) for a, b in zip(raw, unit, strict=True))


def test_shim_embed_routes(shim_url):
    r = httpx.post(f"{shim_url}/api/embed", json={"model": MODEL, "input": ["a b c", "d e f"]}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body)[:2] == ["model", "embeddings"] and body["model"] == MODEL
    assert len(body["embeddings"]) == 2 and all(abs(norm(v) - 1) < 1e-4 for v in body["embeddings"])
    assert isinstance(body["prompt_eval_count"], int)

    r = httpx.post(f"{shim_url}/api/embed", json={"model": MODEL, "input": "one string"}, timeout=120)
    assert len(r.json()["embeddings"]) == 1

    r = httpx.post(f"{shim_url}/api/embed", json={"model": MODEL, "input": ""}, timeout=120)
    assert r.status_code == 200 and r.json()["embeddings"] == []

    r = httpx.post(f"{shim_url}/api/embed", json={"model": MODEL, "input": [1, 2]}, timeout=30)
    assert (r.status_code, r.json()) == (400, {"error": "invalid input type"})

    r = httpx.post(f"{shim_url}/api/embed", json={"model": "nope", "input": "x"}, timeout=30)
    assert (r.status_code, r.json()) == (404, {"error": 'model "nope" not found, try pulling it first'})

    r = httpx.post(f"{shim_url}/api/embeddings", json={"model": MODEL, "prompt": "hello"}, timeout=120)
    assert r.status_code == 200 and len(r.json()["embedding"]) == 576

    r = httpx.post(f"{shim_url}/api/embeddings", json={"model": MODEL, "prompt": ""}, timeout=120)
    assert r.json() == {"embedding": []}

    r = httpx.post(f"{shim_url}/api/embeddings", json={"prompt": "x"}, timeout=30)
    assert (r.status_code, r.json()) == (400, {"error": "model is required"})

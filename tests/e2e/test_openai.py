"""The official `openai` package, unpatched, against the shim's /v1 routes (real model)."""

from __future__ import annotations

import base64
import json
import math

import httpx
import numpy as np
import openai
import pytest

from tests.conftest import MODEL


@pytest.fixture(scope="module")
def client(shim_url):
    return openai.OpenAI(base_url=f"{shim_url}/v1", api_key="ignored")


def test_chat_completion_not_streamed(client):
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}],
        max_tokens=16,
        temperature=0,
    )
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert r.system_fingerprint == "fp_ollama" and r.model == MODEL
    choice = r.choices[0]
    assert choice.message.role == "assistant" and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_completion_streamed_with_usage(client):
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Count to five."}],
            max_tokens=12,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert text.strip() and finish == ["length"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 12
    # The same answer as not streamed.
    whole = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count to five."}], max_tokens=12, temperature=0
    )
    assert whole.choices[0].message.content == text


def test_response_format_json_schema(client):
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}},
        "required": ["colour"],
    }
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Pick a colour."}],
        response_format={"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}},
        temperature=0,
        max_tokens=32,
    )
    assert json.loads(r.choices[0].message.content)["colour"] in ("red", "green", "blue")
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Describe a cat as JSON with keys name and colour."}],
        response_format={"type": "json_object"},
        temperature=0,
        max_tokens=200,
    )
    assert r.choices[0].finish_reason == "stop", "the grammar ends the object"
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_completions(client):
    r = client.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=8, temperature=0)
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert r.choices[0].text and r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.completion_tokens > 0
    parts = list(
        client.completions.create(
            model=MODEL, prompt="The capital of France is", max_tokens=8, temperature=0, stream=True
        )
    )
    assert "".join(p.choices[0].text for p in parts) == r.choices[0].text


def test_embeddings_float_and_base64(client):
    r = client.embeddings.create(model=MODEL, input=["hello", "world"])
    assert [d.index for d in r.data] == [0, 1] and len(r.data[0].embedding) == 576
    assert abs(math.sqrt(sum(x * x for x in r.data[0].embedding)) - 1) < 1e-4
    assert r.usage.prompt_tokens > 0
    b = client.embeddings.create(model=MODEL, input="hello", encoding_format="base64", dimensions=32)
    # Little-endian float32 bytes: the float vector, cut and re-normalised.
    vec = np.frombuffer(base64.b64decode(b.data[0].embedding), dtype="<f4")
    assert len(vec) == 32
    full = np.asarray(r.data[0].embedding[:32])
    assert np.allclose(vec, full / np.linalg.norm(full), atol=1e-5)


def test_models(client):
    ids = [m.id for m in client.models.list().data]
    assert MODEL in ids
    m = client.models.retrieve(MODEL)
    assert (m.id, m.object, m.owned_by) == (MODEL, "model", "library") and m.created > 0
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_errors_use_the_openai_envelope(shim_url):
    r = httpx.post(f"{shim_url}/v1/chat/completions", json={"model": MODEL, "messages": []})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "message": "[] is too short - 'messages'",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    r = httpx.post(
        f"{shim_url}/v1/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    r = httpx.post(f"{shim_url}/v1/embeddings", json={"model": MODEL, "input": "x", "encoding_format": "hex"})
    assert r.json()["error"]["message"] == (
        "Invalid value for 'encoding_format' = hex. Supported values: ['float', 'base64']."
    )
    r = httpx.post(f"{shim_url}/v1/embeddings", json={"model": MODEL, "input": []})
    assert (r.status_code, r.json()["error"]["message"]) == (400, "invalid input")
    png = base64.b64encode(b"\x89PNG fake").decode()
    r = httpx.post(
        f"{shim_url}/v1/chat/completions",
        json={
            "model": MODEL,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                    ],
                }
            ],
        },
    )
    assert r.status_code == 400 and r.json()["error"]["message"].endswith("does not support vision")
    r = httpx.post(
        f"{shim_url}/v1/chat/completions",
        json={
            "model": MODEL,
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": "https://example.com/a.png"}]}
            ],
        },
    )
    assert r.json()["error"]["message"].startswith("image URLs are not currently supported")


def test_langchain_chat_openai_max_tokens_stops_the_generation(shim_url):
    """langchain-openai sends ChatOpenAI(max_tokens=8) as max_completion_tokens only."""
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{shim_url}/v1", api_key="ignored", model=MODEL, max_tokens=8, temperature=0)
    reply = llm.invoke("Write a very long story about a dragon.")
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 8
    assert reply.response_metadata["finish_reason"] == "length"
    streamed = list(llm.stream("Write a very long story about a dragon."))
    assert sum(1 for c in streamed if c.content) <= 8


def test_n_choices_are_n_generations(client):
    """Ollama ignores n and answers one choice; here each choice is its own generation."""
    msgs = [{"role": "user", "content": "Name a colour."}]
    r = client.chat.completions.create(model=MODEL, messages=msgs, n=3, max_tokens=6, seed=7)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert all(c.message.role == "assistant" and c.message.content for c in r.choices)
    assert 3 <= r.usage.completion_tokens <= 18  # the three generations' tokens together
    stream = client.chat.completions.create(
        model=MODEL, messages=msgs, n=2, max_tokens=6, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert {c.choices[0].index for c in chunks if c.choices} == {0, 1}
    assert len({c.id for c in chunks}) == 1
    finished = [c.choices[0] for c in chunks if c.choices and c.choices[0].finish_reason]
    assert sorted(f.index for f in finished) == [0, 1]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=msgs, n=9)

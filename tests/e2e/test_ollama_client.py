"""The official `ollama` Python package, unpatched, against the shim."""

from __future__ import annotations

import ollama

from tests.conftest import MODEL


def test_generate_not_streamed(shim_url):
    client = ollama.Client(host=shim_url)
    r = client.generate(model=MODEL, prompt="Why is the sky blue?", options={"num_predict": 24})
    assert r.done and r.response.strip()
    assert r.eval_count and r.eval_count > 0 and r.prompt_eval_count and r.total_duration


def test_generate_streamed(shim_url):
    client = ollama.Client(host=shim_url)
    parts = list(
        client.generate(model=MODEL, prompt="Why is the sky blue?", stream=True, options={"num_predict": 24})
    )
    assert parts[-1].done and parts[-1].done_reason in ("stop", "length")
    assert "".join(p.response for p in parts).strip()
    assert parts[-1].eval_count == sum(1 for p in parts[:-1] if p.response)


async def test_async_client_and_errors(shim_url):
    client = ollama.AsyncClient(host=shim_url)
    r = await client.generate(model=MODEL, prompt="Say hello.", options={"num_predict": 8})
    assert r.response.strip()
    try:
        await client.generate(model="no-such-model", prompt="hi")
    except ollama.ResponseError as e:
        assert e.status_code == 404 and e.error == "model 'no-such-model' not found"
    else:
        raise AssertionError("expected a 404")


def test_embed_and_legacy_embeddings(shim_url):
    client = ollama.Client(host=shim_url)
    r = client.embed(model=MODEL, input=["first text", "second text"])
    assert len(r.embeddings) == 2 and len(r.embeddings[0]) == 576
    assert abs(sum(x * x for x in r.embeddings[0]) - 1) < 1e-4
    legacy = client.embeddings(model=MODEL, prompt="first text")
    assert len(legacy.embedding) == 576

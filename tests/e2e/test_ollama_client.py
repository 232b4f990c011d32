"""The official `ollama` Python package, unpatched, against the shim."""

from __future__ import annotations

import httpx
import ollama
import pytest

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


def test_model_management_with_the_sync_client(shim_url):
    client = ollama.Client(host=shim_url)
    # ollama-python 0.6.3 has no version() call; the JS client's version() is what uses it.
    assert httpx.get(f"{shim_url}/api/version").json() == {"version": "0.33.0"}
    names = [m.model for m in client.list().models]
    assert MODEL in names
    shown = client.show(MODEL)
    assert shown.details.family == "llama" and "completion" in shown.capabilities
    done = list(client.create(model="client-made", from_=MODEL, system="You are a pirate.", stream=True))
    assert done[-1].status == "success"
    assert "SYSTEM You are a pirate." in client.show("client-made").modelfile
    assert client.copy("client-made", "client-copy").status == "success"
    assert {"client-made:latest", "client-copy:latest"} <= {m.model for m in client.list().models}
    r = client.chat(
        model="client-copy",
        messages=[
            {"role": "user", "content": "Hi."},
            {"role": "assistant", "content": "Arr."},
            {"role": "user", "content": "Where is the treasure?"},
        ],
        options={"num_predict": 8},
    )
    assert r.message.content.strip()
    running = client.ps().models
    assert any(m.model == "client-copy:latest" for m in running)
    for name in ("client-made", "client-copy"):
        assert client.delete(name).status == "success"
    with pytest.raises(ollama.ResponseError) as err:
        client.delete("client-made")
    assert err.value.status_code == 404


async def test_async_chat_streamed_with_history_and_embed(shim_url):
    client = ollama.AsyncClient(host=shim_url)
    history = [{"role": "user", "content": "Name a fruit."}]
    parts = [
        p
        async for p in await client.chat(
            model=MODEL, messages=history, stream=True, options={"num_predict": 12}
        )
    ]
    assert parts[-1].done and "".join(p.message.content for p in parts).strip()
    assert (await client.embed(model=MODEL, input="x")).embeddings
    assert MODEL in [m.model for m in (await client.list()).models]

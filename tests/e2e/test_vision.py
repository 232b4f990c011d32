"""Images end to end through llama.cpp's mtmd: a model with a projector layer (a small
random-weight CLIP projector matching SmolLM2's width, tests/gguf_factory.py), images
from base64 on /api/generate and /api/chat, OpenAI image_url data URIs and Anthropic
image blocks. The words are noise; the path is real: decoded image, encoder,
projector, embeddings in the batch, then generation."""

from __future__ import annotations

import base64
import hashlib

import anthropic
import httpx
import openai
import pytest

from server.bootstrap import SMOLLM2
from tests.conftest import MODEL
from tests.gguf_factory import tiny_png, write_test_projector

VISION = "smol-vision"
PNG = base64.b64encode(tiny_png()).decode()
GREEDY = {"temperature": 0, "num_predict": 6}


@pytest.fixture(scope="module")
def client(shim_url, tmp_path_factory):
    projector = write_test_projector(tmp_path_factory.mktemp("vision") / "mmproj.gguf")
    data = projector.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=shim_url, timeout=300) as c:
        assert c.post(f"/api/blobs/{digest}", content=data).status_code == 201
        files = {"model.gguf": f"sha256:{SMOLLM2.sha256}", "mmproj.gguf": digest}
        r = c.post(
            "/api/create",
            json={"model": VISION, "files": files, "template": SMOLLM2.template, "stream": False},
        )
        assert r.status_code == 200, r.text
        yield c
        c.request("DELETE", "/api/delete", json={"model": VISION})


def test_show_lists_vision(client):
    shown = client.post("/api/show", json={"model": VISION}).json()
    assert "vision" in shown["capabilities"]
    assert shown["projector_info"]["general.architecture"] == "clip"


def test_generate_and_chat_with_images(client):
    plain = client.post(
        "/api/generate", json={"model": VISION, "prompt": "What is this?", "stream": False, "options": GREEDY}
    ).json()
    seen = client.post(
        "/api/generate",
        json={
            "model": VISION,
            "prompt": "What is this?",
            "images": [PNG],
            "stream": False,
            "options": GREEDY,
        },
    ).json()
    assert seen["done"] is True and seen["eval_count"] > 0
    # The image took positions in the prompt: 2x2 patches become 4 embeddings.
    assert seen["prompt_eval_count"] >= plain["prompt_eval_count"] + 4

    def chat(images: list[str]) -> dict:
        message = {"role": "user", "content": "Describe it.", "images": images}
        body = {"model": VISION, "stream": False, "options": GREEDY, "messages": [message]}
        return client.post("/api/chat", json=body).json()

    two = chat([PNG, PNG])
    assert two["done"] is True and two["message"]["role"] == "assistant"
    assert two["prompt_eval_count"] >= chat([])["prompt_eval_count"] + 8


def test_openai_image_url_and_anthropic_image_blocks(client, shim_url):
    oa = openai.OpenAI(base_url=f"{shim_url}/v1", api_key="x")
    r = oa.chat.completions.create(
        model=VISION, max_tokens=6, temperature=0,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        ]}],
    )  # fmt: skip
    assert r.choices[0].finish_reason in ("stop", "length") and r.usage.prompt_tokens > 10
    an = anthropic.Anthropic(base_url=shim_url, api_key="x")
    msg = an.messages.create(
        model=VISION, max_tokens=6,
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "text", "text": "What is this?"},
        ]}],
    )  # fmt: skip
    assert msg.stop_reason in ("end_turn", "max_tokens") and msg.usage.input_tokens > 10


def test_images_need_a_projector_and_a_real_image(client):
    r = client.post("/api/generate", json={"model": MODEL, "prompt": "x", "images": [PNG]})
    assert r.status_code == 400 and r.json()["error"].endswith("does not support vision")
    junk = base64.b64encode(b"not an image").decode()
    r = client.post("/api/generate", json={"model": VISION, "prompt": "x", "images": [junk], "stream": False})
    assert r.status_code == 400 and r.json() == {"error": "image: unknown format"}

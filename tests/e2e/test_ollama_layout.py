"""A models folder laid out by hand exactly as Ollama writes it is listed and served;
and what tokenwire writes has Ollama's shapes (reference §5)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import grpc

from tests.procs import start_server
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, models_pb2, models_pb2_grpc, types_pb2

CHATML = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)


def blob(root: Path, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / digest.replace(":", "-")).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_manifest(
    root: Path, host: str, ns: str, model: str, tag: str, config: dict, layers: list[dict]
) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
        "layers": layers,
    }
    raw = json.dumps(doc, separators=(",", ":")).encode()
    path = root / "manifests" / host / ns / model / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return raw


def test_hand_built_ollama_store_is_listed_and_served(tmp_path):
    from server.bootstrap import SMOLLM2, cached_path
    from server.settings import Settings

    root = tmp_path / "ollama-models"
    gguf = cached_path(Settings.from_env().cache_dir, SMOLLM2)
    (root / "blobs").mkdir(parents=True)
    model_digest = "sha256:" + SMOLLM2.sha256
    os.link(gguf, root / "blobs" / model_digest.replace(":", "-"))
    model_layer = {
        "mediaType": "application/vnd.ollama.image.model",
        "digest": model_digest,
        "size": gguf.stat().st_size,
    }
    # Before v0.32.7 Ollama's config also carried rootfs; it must be tolerated.
    config = blob(
        root,
        json.dumps(
            {
                "model_format": "gguf",
                "model_family": "llama",
                "model_families": ["llama"],
                "model_type": "134.52M",
                "file_type": "Q4_1",
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [model_digest]},
            },
            separators=(",", ":"),
        ).encode(),
    )
    template = {"mediaType": "application/vnd.ollama.image.template", **blob(root, CHATML.encode())}
    params = {
        "mediaType": "application/vnd.ollama.image.params",
        **blob(root, b'{"stop":["<|im_start|>","<|im_end|>"],"temperature":0}'),
    }
    system = {"mediaType": "application/vnd.ollama.image.system", **blob(root, b"You are terse.")}
    raw1 = write_manifest(
        root,
        "registry.ollama.ai",
        "library",
        "handmade",
        "latest",
        config,
        [model_layer, template, params, system],
    )
    # Another host and namespace, and the legacy `.prompt` media type for the template.
    prompt = {"mediaType": "application/vnd.ollama.image.prompt", **blob(root, b"{{ .Prompt }}")}
    raw2 = write_manifest(root, "example.com", "team", "Raw-Model", "v2", config, [model_layer, prompt])
    # No template layer at all: the GGUF's own Jinja chat_template renders the prompt.
    write_manifest(root, "registry.ollama.ai", "library", "bare", "latest", config, [model_layer])

    proc = start_server(root, TOKENWIRE_DEFAULT_MODEL="")
    try:
        with grpc.insecure_channel(proc.address) as ch:
            models = (
                models_pb2_grpc.ModelServiceStub(ch)
                .ListModels(models_pb2.ListModelsRequest(), timeout=30)
                .models
            )
            listed = {m.name: m for m in models}
            assert set(listed) == {"handmade:latest", "example.com/team/Raw-Model:v2", "bare:latest"}
            assert listed["handmade:latest"].digest == hashlib.sha256(raw1).hexdigest()
            assert listed["example.com/team/Raw-Model:v2"].digest == hashlib.sha256(raw2).hexdigest()
            assert listed["handmade:latest"].size == gguf.stat().st_size + config["size"] + sum(
                x["size"] for x in (template, params, system)
            )
            shown = models_pb2_grpc.ModelServiceStub(ch).ShowModel(
                models_pb2.ShowModelRequest(model="EXAMPLE.com/team/raw-model:V2"), timeout=30
            )
            assert shown.template == "{{ .Prompt }}"

            stub = inference_pb2_grpc.InferenceServiceStub(ch)
            render = list(
                stub.Generate(
                    inference_pb2.GenerateRequest(model="handmade", prompt="hi", debug_render_only=True),
                    timeout=30,
                )
            )
            assert render[0].debug_info.rendered_template.startswith(
                "<|im_start|>system\nYou are terse.<|im_end|>"
            )
            final = list(
                stub.Generate(
                    inference_pb2.GenerateRequest(
                        model="handmade",
                        prompt="Why is the sky blue?",
                        options=types_pb2.Options(num_predict=5),
                    ),
                    timeout=120,
                )
            )[-1]
            assert final.done and final.eval_count == 5

            def chat(messages, **kw):
                msgs = [types_pb2.Message(role=r, content=c) for r, c in messages]
                req = inference_pb2.ChatRequest(model="bare", messages=msgs, **kw)
                return list(stub.Chat(req, timeout=120))

            jinja = chat([("user", "hi")], debug_render_only=True)[0].debug_info.rendered_template
            assert jinja == (
                "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                "<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
            )
            jinja = chat([("system", "Be brief."), ("user", "hi")], debug_render_only=True)[0]
            assert jinja.debug_info.rendered_template == (
                "<|im_start|>system\nBe brief.<|im_end|>\n"
                "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
            )
            answer = chat([("user", "Say hello.")], options=types_pb2.Options(num_predict=8, temperature=0))
            assert answer[-1].done and "".join(c.message.content for c in answer).strip()
    finally:
        proc.stop()
    # Serving it changed nothing in the hand-made folder but the default model seeding (disabled here).
    assert sorted(p.name for p in (root / "manifests").iterdir()) == ["example.com", "registry.ollama.ai"]


def test_what_tokenwire_writes_has_ollamas_shapes(channel, models_dir):
    stub = models_pb2_grpc.ModelServiceStub(channel)
    req = models_pb2.CreateModelRequest(model="shape-check", system="s", **{"from": "smollm2:135m"})
    assert list(stub.CreateModel(req, timeout=60))[-1].status == "success"
    raw = (models_dir / "manifests/registry.ollama.ai/library/shape-check/latest").read_bytes()
    doc = json.loads(raw)
    assert doc["schemaVersion"] == 2
    assert doc["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert doc["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    for layer in [doc["config"], *doc["layers"]]:
        assert set(layer) <= {"mediaType", "digest", "size", "from"}
        path = models_dir / "blobs" / layer["digest"].replace(":", "-")
        assert path.stat().st_size == layer["size"]
        assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == layer["digest"]
    media = [x["mediaType"] for x in doc["layers"]]
    assert media == [
        "application/vnd.ollama.image.model",
        "application/vnd.ollama.image.template",
        "application/vnd.ollama.image.system",
        "application/vnd.ollama.image.params",
    ]
    config = json.loads((models_dir / "blobs" / doc["config"]["digest"].replace(":", "-")).read_bytes())
    assert list(config)[:5] == ["model_format", "model_family", "model_families", "model_type", "file_type"]
    assert config["model_format"] == "gguf" and config["os"] == "linux"
    stub.DeleteModel(models_pb2.DeleteModelRequest(model="shape-check"), timeout=30)

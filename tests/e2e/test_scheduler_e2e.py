"""ps, keep_alive and the admission bound on the real server and shim."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import grpc
import httpx

from tests.conftest import MODEL
from tests.procs import start_server, start_shim
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2


def _drain(call) -> None:
    try:
        list(call)
    except grpc.RpcError:
        pass  # cancelled at the end of the test


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_ps_shows_the_loaded_model_and_keep_alive_zero_unloads(shim_url):
    with httpx.Client(base_url=shim_url, timeout=120) as c:
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "", "keep_alive": "10m"})
        assert r.json()["done_reason"] == "load"
        ps = c.get("/api/ps").json()["models"]
        (m,) = [x for x in ps if x["name"] == MODEL]
        assert list(m) == [
            "name",
            "model",
            "size",
            "digest",
            "details",
            "expires_at",
            "size_vram",
            "context_length",
        ]
        assert m["context_length"] == 4096 and m["size_vram"] == 0
        # The memory it holds, as Ollama reports it: weights (88 MB) and each slot's KV
        # cache (94 MB per 4096 tokens), not the 98 MB file.
        assert m["size"] >= 88_000_000 + 94_000_000
        assert 9 * 60 < _ts(m["expires_at"]) - time.time() <= 10 * 60 + 5
        assert m["details"]["family"] == "llama"
        # keep_alive forever: expires_at far ahead
        c.post("/api/generate", json={"model": MODEL, "prompt": "", "keep_alive": -1})
        (m,) = [x for x in c.get("/api/ps").json()["models"] if x["name"] == MODEL]
        assert _ts(m["expires_at"]) - time.time() > 200 * 365 * 86400
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "", "keep_alive": 0})
        assert r.json()["done_reason"] == "unload" and r.json()["response"] == ""
        assert [x for x in c.get("/api/ps").json()["models"] if x["name"] == MODEL] == []
        # A prompt with keep_alive 0 runs, then unloads.
        r = c.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": "hi",
                "keep_alive": 0,
                "stream": False,
                "options": {"num_predict": 2},
            },
        )
        assert r.json()["eval_count"] <= 2
        assert [x for x in c.get("/api/ps").json()["models"] if x["name"] == MODEL] == []


def test_a_full_queue_answers_503_with_ollamas_message(tmp_path):
    server = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1")
    shim = start_shim(server.address)
    long = types_pb2.Options(num_predict=100_000, num_ctx=8192, temperature=0)
    try:
        with grpc.insecure_channel(server.address) as ch:
            stub = inference_pb2_grpc.InferenceServiceStub(ch)
            busy = stub.Generate(
                inference_pb2.GenerateRequest(model=MODEL, prompt="Tell a story.", options=long)
            )
            next(busy)  # holds the only slot
            queued = stub.Generate(
                inference_pb2.GenerateRequest(model=MODEL, prompt="Another.", options=long)
            )
            threading.Thread(target=_drain, args=(queued,), daemon=True).start()
            time.sleep(1.0)  # let the second request reach the engine's queue
            r = httpx.post(
                f"http://{shim.address}/api/generate",
                timeout=30,
                json={"model": MODEL, "prompt": "third", "options": {"num_ctx": 8192}},
            )
            assert r.status_code == 503
            assert r.json() == {"error": "server busy, please try again.  maximum pending requests exceeded"}
            with_grpc = stub.Generate(inference_pb2.GenerateRequest(model=MODEL, prompt="x", options=long))
            try:
                next(with_grpc)
                raise AssertionError("expected RESOURCE_EXHAUSTED")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            busy.cancel()
            queued.cancel()
    finally:
        shim.stop()
        server.stop()

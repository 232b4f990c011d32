"""Hostile input, each case from the robustness issue: a clear 4xx with its message,
the server still answering, and other users' streams in flight unharmed."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import grpc
import httpx
import pytest
from gguf import GGUFWriter
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import MODEL
from tests.procs import start_server, start_shim
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, models_pb2, models_pb2_grpc, types_pb2

ONE = {"temperature": 0, "num_predict": 1}


def _streams_in_flight(channel, n: int = 2, tokens: int = 48) -> tuple[list[threading.Thread], list]:
    """n greedy gRPC streams running while the test attacks; results filled in later."""
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    results: list = [None] * n
    started = threading.Barrier(n + 1)

    def run(i: int) -> None:
        call = stub.Generate(
            inference_pb2.GenerateRequest(
                model=MODEL,
                prompt=f"Count from {i} to a hundred.",
                options=types_pb2.Options(temperature=0, num_predict=tokens),
            ),
            timeout=300,
        )
        it = iter(call)
        chunks = [next(it)]
        started.wait()
        chunks += list(it)
        results[i] = chunks

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    started.wait(timeout=120)
    return threads, results


def _finished_normally(threads, results, tokens: int = 48) -> None:
    for t in threads:
        t.join(300)
    for chunks in results:
        assert chunks is not None and chunks[-1].done and chunks[-1].eval_count == tokens


@pytest.fixture
def others_streaming(channel):
    """Two other users' streams in flight through the test; they must finish normally."""
    threads, results = _streams_in_flight(channel)
    yield
    _finished_normally(threads, results)


def _deep(depth: int) -> dict:
    value: dict = {"type": "string"}
    for _ in range(depth):
        value = {"type": "object", "properties": {"a": value}}
    return value


# One case a line, so the list reads as the list.
# ruff: noqa: E501
CASES = [
    # (path, body, status, message or a part of it)
    ("/api/generate", b'{"model": "smollm2:135m", "prompt": "hi", "keep_alive": NaN}', 400, "invalid character 'N'"),
    (
        "/api/generate",
        {"model": MODEL, "prompt": "hi", "keep_alive": "9999999999999h"},
        400,
        'time: invalid duration "9999999999999h"',
    ),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "options": {"temperature": 1e300}}, 400, "finite"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "options": {"num_ctx": 1e300}}, 400, "out of range"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "options": {"num_ctx": 2**40}}, 400, "out of range"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "options": {"num_predict": "x"}}, 400, "must be of type"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "top_logprobs": 2**40}, 400, "Value out of range"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "context": [2**70]}, 400, "cannot unmarshal number"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "context": [-1]}, 400, "context token -1 is outside"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "format": _deep(80)}, 400, "exceeded max depth of 64"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "format": {"type": "x" * 300_000}}, 400, "too large"),
    ("/api/chat", {"model": MODEL, "messages": [{"role": "user", "tool_calls": ["x"]}]}, 400, "api.ChatRequest"),
    ("/api/chat", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "tools": [{"function": "f"}]},
     400, "api.ChatRequest"),
    ("/api/chat", {"model": MODEL, "messages": "hi"}, 400, "cannot unmarshal string"),
    ("/api/show", {"model": "h" * 300 + "/ns/m:latest"}, 400, "invalid model name"),
    ("/api/create", {"model": "h" * 300 + "/ns/m:latest", "from": MODEL}, 400, "invalid model name"),
    ("/api/copy", {"source": MODEL, "destination": "h" * 300 + "/ns/m"}, 400, "is invalid"),
    ("/api/create", {"model": "badparams", "from": MODEL, "parameters": {"num_batch": 10**9}}, 400, "num_batch"),
    ("/api/generate", b"[" * 5000 + b"]" * 5000, 400, "exceeded max depth"),
    ("/api/generate", {"model": MODEL, "prompt": "hi", "images": ["aGk="] * 33}, 400, "too many images"),
    ("/v1/chat/completions", b'{"model": "x", "messages": [{"role": "user", "content": Infinity}]}', 400, "invalid"),
]  # fmt: skip


def test_hostile_inputs_get_clear_errors_while_others_stream(shim_url, others_streaming):
    with httpx.Client(base_url=shim_url, timeout=120) as c:
        for path, body, status, message in CASES:
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            r = c.post(path, content=content, headers={"content-type": "application/json"})
            assert r.status_code == status, (path, r.status_code, r.text[:300])
            error = r.json()["error"]  # JSON in the route's envelope: Ollama's or OpenAI's
            assert message in (error if isinstance(error, str) else error["message"]), (path, r.text[:300])
            assert len(r.text) < 2000, (path, "error messages are bounded")
            assert "/tmp" not in r.text  # never the store's absolute path
        # A schema that converts badly answers with its message cut to size.
        bad = {"type": "object", "properties": {f"p{i}": {"type": "nonsense"} for i in range(3000)}}
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "hi", "format": bad})
        assert r.status_code == 400 and len(r.json()["error"]) <= 1024
        assert c.get("/api/tags").status_code == 200


def test_inputs_that_used_to_crash_now_run(shim_url, server, others_streaming):
    """num_batch below the slots, embed with num_ctx 3, num_thread 600, a lone surrogate,
    invalid UTF-8, [null] in lists, 3,000 chat messages: each is served."""
    with httpx.Client(base_url=shim_url, timeout=180) as c:
        for options in ({**ONE, "num_batch": 1}, {**ONE, "num_thread": 600}):
            r = c.post(
                "/api/generate", json={"model": MODEL, "prompt": "hi", "stream": False, "options": options}
            )
            assert r.status_code == 200 and r.json()["done"], r.text
            threads = len(os.listdir(f"/proc/{server.proc.pid}/task"))
            assert threads < 100, f"{threads} threads: num_thread was not capped"
        # The same num_batch saved in a Modelfile: the model is created, and runs.
        r = c.post(
            "/api/create",
            json={"model": "batch1", "from": MODEL, "parameters": {"num_batch": 1}, "stream": False},
        )
        assert r.status_code == 200, r.text
        r = c.post("/api/generate", json={"model": "batch1", "prompt": "hi", "stream": False, "options": ONE})
        assert r.status_code == 200 and r.json()["done"], r.text
        assert c.request("DELETE", "/api/delete", json={"model": "batch1"}).status_code == 200
        r = c.post("/api/embed", json={"model": MODEL, "input": ["a", "b"], "options": {"num_ctx": 3}})
        assert r.status_code == 200 and len(r.json()["embeddings"]) == 2, r.text
        raw = b'{"model": "smollm2:135m", "prompt": "a\\ud800 b\xff", "stream": false, "context": [null],'
        raw += b' "options": {"temperature": 0, "num_predict": 1}}'
        r = c.post("/api/generate", content=raw)
        assert r.status_code == 200 and r.json()["done"], r.text
        messages = [
            {"role": ("user", "assistant")[i % 2], "content": f"message {i} " * 8} for i in range(3001)
        ]
        r = c.post("/api/chat", json={"model": MODEL, "messages": messages, "stream": False, "options": ONE})
        assert r.status_code == 200 and r.json()["done"], r.text
        assert 0 < r.json()["prompt_eval_count"] <= 4096  # history was cut to the context
        # keep_alive past int64 nanoseconds means forever, as Go's overflow makes it.
        r = c.post(
            "/api/generate",
            json={"model": MODEL, "prompt": "hi", "stream": False, "options": ONE, "keep_alive": 1e300},
        )
        assert r.status_code == 200
        assert c.get("/api/ps").json()["models"][0]["expires_at"].startswith("2262-")
        # Back to the session's usual load options and keep_alive for the tests that follow.
        body = {"model": MODEL, "prompt": "hi", "stream": False, "options": ONE, "keep_alive": "5m"}
        assert c.post("/api/generate", json=body).status_code == 200


def test_a_huge_prompt_is_refused_without_stalling_health(shim_url, channel, others_streaming):
    health = health_pb2_grpc.HealthStub(channel)
    done = threading.Event()
    checks: list[float] = []

    def probe() -> None:
        while not done.is_set():
            t0 = time.monotonic()
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.SERVING
            checks.append(time.monotonic() - t0)
            time.sleep(0.05)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    with httpx.Client(base_url=shim_url, timeout=120) as c:
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "word " * 12_600_000})
    done.set()
    t.join(15)
    assert r.status_code == 400 and "prompt is too long" in r.json()["error"]
    assert checks, "health answered throughout"


def _bad_gguf(path: Path) -> bytes:
    w = GGUFWriter(str(path), "llama")
    w.add_string("llama.context_length", "lots")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


def test_a_gguf_with_wrong_metadata_types_is_refused_at_create(shim_url, tmp_path, others_streaming):
    data = _bad_gguf(tmp_path / "bad.gguf")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=shim_url, timeout=60) as c:
        assert c.post(f"/api/blobs/{digest}", content=data).status_code in (200, 201)
        r = c.post("/api/create", json={"model": "badmeta", "files": {"m.gguf": digest}, "stream": False})
        assert r.status_code == 400
        assert r.json() == {"error": "invalid GGUF metadata: llama.context_length must be an int"}
        assert c.get("/api/tags").status_code == 200
        assert c.get("/v1/models").status_code == 200


def test_undecodable_grpc_messages_are_invalid_argument(channel, others_streaming):
    call = channel.unary_unary("/tokenwire.v1.ModelService/ShowModel")
    with pytest.raises(grpc.RpcError) as e:
        call(b"\xff\xff\xff\xff", timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "could not be decoded" in e.value.details()


def test_concurrent_uploads_never_starve_the_model_service(shim_url, server, others_streaming):
    """Eight uploads held open mid-body, more than the blob writers: listing still
    answers at once, and a client that leaves cancels its upload."""
    models = models_pb2_grpc.ModelServiceStub(grpc.insecure_channel(server.address))
    release = threading.Event()

    def upload(i: int) -> None:
        data = os.urandom(1 << 20)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()

        def body():
            yield data[: 1 << 19]
            release.wait(60)
            yield data[1 << 19 :]

        with httpx.Client(base_url=shim_url, timeout=120) as c:
            c.post(f"/api/blobs/{digest}", content=body())

    threads = [threading.Thread(target=upload, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    listed = models.ListModels(models_pb2.ListModelsRequest(), timeout=10)
    assert any(m.name == MODEL for m in listed.models)
    release.set()
    for t in threads:
        t.join(60)


def test_symlinks_leading_out_of_the_store_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text('{"schemaVersion": 2, "layers": []}')
    root = tmp_path / "models"
    server = start_server(root)
    try:
        shim = start_shim(server.address)
        try:
            lib = root / "manifests" / "registry.ollama.ai" / "library"
            (lib / "leak").mkdir(parents=True)
            (lib / "leak" / "latest").symlink_to(outside / "secret")
            (lib / "out").symlink_to(outside, target_is_directory=True)
            with httpx.Client(base_url=f"http://{shim.address}", timeout=60) as c:
                r = c.post("/api/show", json={"model": "leak"})
                assert r.status_code == 400 and r.json() == {
                    "error": "model 'leak:latest' leads outside the model store"
                }
                r = c.post("/api/copy", json={"source": MODEL, "destination": "out:latest"})
                assert r.status_code == 400 and "leads outside the model store" in r.json()["error"]
                assert sorted(p.name for p in outside.iterdir()) == ["secret"]
                assert c.get("/api/tags").status_code == 200
        finally:
            shim.stop()
    finally:
        server.stop()


class _HostileRegistry:
    """A registry that lies: a manifest whose layer claims 2**62 bytes, and a 400 whose
    body is 200 MB."""

    def __init__(self) -> None:
        import http.server

        outer = self
        self.sent = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if "/huge/manifests/" in self.path:
                    layer = {
                        "mediaType": "application/vnd.ollama.image.model",
                        "size": 2**62,
                        "digest": "sha256:" + "a" * 64,
                    }
                    config = {
                        "mediaType": "application/vnd.docker.container.image.v1+json",
                        "size": 2,
                        "digest": "sha256:" + "b" * 64,
                    }
                    body = json.dumps(
                        {
                            "schemaVersion": 2,
                            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                            "config": config,
                            "layers": [layer],
                        }
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(400)
                self.send_header("Content-Length", str(200 << 20))
                self.end_headers()
                chunk = b"x" * (1 << 20)
                try:
                    for _ in range(200):
                        self.wfile.write(chunk)
                        outer.sent += len(chunk)
                except OSError:
                    pass  # the client stopped reading, as it should

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_lying_registry_is_refused_within_bounds(server, others_streaming):
    registry = _HostileRegistry()
    try:
        models = models_pb2_grpc.ModelServiceStub(grpc.insecure_channel(server.address))
        with pytest.raises(grpc.RpcError) as e:
            list(
                models.PullModel(
                    models_pb2.PullModelRequest(model=f"{registry.address}/ns/huge", insecure=True),
                    timeout=30,
                )
            )
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details() == (
            "pull model manifest: the registry sent an invalid manifest: "
            f"layer sha256:{'a' * 64} claims {2**62} bytes"
        )
        before = _rss_kib(server.proc.pid)
        with pytest.raises(grpc.RpcError) as e:
            list(
                models.PullModel(
                    models_pb2.PullModelRequest(model=f"{registry.address}/ns/err", insecure=True), timeout=30
                )
            )
        # The registry's own 400 is the registry's fault, not this caller's: INTERNAL, with
        # Ollama's "<status>: <body>" wording, the body cut short.
        assert e.value.code() == grpc.StatusCode.INTERNAL
        assert e.value.details().startswith("pull model manifest: 400: xxxx")
        assert len(e.value.details()) <= 1024
        grown_mib = (_rss_kib(server.proc.pid) - before) / 1024
        assert grown_mib < 50, f"the server grew {grown_mib:.0f} MiB reading an error body"
        assert registry.sent < 200 << 20, "the whole 200 MB body was read"
    finally:
        registry.close()


def test_an_upload_whose_client_leaves_is_cancelled(server, models_dir, others_streaming):
    models = models_pb2_grpc.ModelServiceStub(grpc.insecure_channel(server.address))
    data = os.urandom(1 << 20)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    hold = threading.Event()

    def body():
        yield models_pb2.CreateBlobRequest(digest=digest)
        yield models_pb2.CreateBlobRequest(data=data[: 1 << 19])
        hold.wait(30)

    call = models.CreateBlob.future(body())
    blobs = models_dir / "blobs"
    deadline = time.monotonic() + 20
    while not any(p.name.endswith("-partial") for p in blobs.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert any(p.name.endswith("-partial") for p in blobs.iterdir()), "the upload never started writing"
    call.cancel()
    hold.set()
    deadline = time.monotonic() + 20
    while any(p.name.endswith("-partial") for p in blobs.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(p.name.endswith("-partial") for p in blobs.iterdir()), "the cancelled upload left its file"
    assert not (blobs / digest.replace(":", "-")).exists()


def test_a_rest_upload_whose_client_leaves_is_cancelled_quietly(shim, models_dir, others_streaming):
    import socket

    data = os.urandom(1 << 20)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    head = f"POST /api/blobs/{digest} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n\r\n"
    logged = len(shim.log)
    with socket.create_connection(("127.0.0.1", shim.port)) as sock:
        sock.sendall(head.encode() + data[:300_000])
        time.sleep(0.5)
    blobs = models_dir / "blobs"
    deadline = time.monotonic() + 20
    while any(p.name.endswith("-partial") for p in blobs.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(p.name.endswith("-partial") for p in blobs.iterdir())
    assert not (blobs / digest.replace(":", "-")).exists()
    time.sleep(0.2)
    assert "Traceback" not in "".join(shim.log[logged:])

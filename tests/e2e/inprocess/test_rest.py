"""Ollama's REST API from a server that serves it itself (TOKENWIRE_REST_INPROCESS): the
shim's REST and `ollama` package tests again, then what the in-process channel must keep
of a real gRPC hop: a client leaving stops the engine, deadlines, credentials and their
challenge, a client-streaming upload, and SIGTERM's drain of a stream in flight."""

from __future__ import annotations

import hashlib
import json
import time

import httpx

from tests.conftest import MODEL
from tests.e2e.test_ollama_client import *  # noqa: F403 (its tests, run here too)
from tests.e2e.test_rest import (  # noqa: F401 (tests and the `client` fixture, run here too)
    _abandon_then_generate,
    check_the_generate_deadline,
    client,
    leave_a_stream,
    leave_while_queued,
    test_bad_requests,
    test_chat_streams_an_assistant_message,
    test_format_json_ends_when_the_value_is_complete,
    test_root_and_version,
    test_stream_false_equals_the_concatenated_stream,
    test_streamed_generate_is_ollama_ndjson,
    test_unknown_model_is_404_with_ollamas_message,
)
from tests.e2e.test_shutdown import _refused
from tests.procs import Proc, rest_address, start_rest_server

COUNTING = {"model": MODEL, "prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", "raw": True}


def _rest_server(tmp_path, **env: str) -> tuple[Proc, str]:
    server = start_rest_server(tmp_path / "models", **env)
    return server, f"http://{rest_address(server)}"


def test_a_client_leaving_a_stream_stops_the_generation(tmp_path):
    assert "Traceback" not in _abandon_then_generate(tmp_path, leave_a_stream, inprocess=True)


def test_a_client_leaving_while_queued_is_cancelled_before_its_first_token(tmp_path):
    assert "Traceback" not in _abandon_then_generate(tmp_path, leave_while_queued, inprocess=True)


def test_deadline_credentials_and_an_upload(tmp_path):
    server, url = _rest_server(tmp_path, TOKENWIRE_DEADLINE_GENERATE="1.5", OLLAMA_BASIC_AUTH="user:pass")
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            r = c.post("/api/generate", json={"model": MODEL, "prompt": "hi"})
            assert r.status_code == 401 and r.json() == {"error": "unauthorized: missing credentials"}
            assert r.headers["www-authenticate"] == 'Basic realm="tokenwire"'  # keys: Bearer too
            r = c.post("/v1/messages", json={"model": MODEL, "max_tokens": 2, "messages": []})
            assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        authed = f"http://user:pass@{url.removeprefix('http://')}"
        check_the_generate_deadline(authed)
        with httpx.Client(base_url=authed, timeout=30) as c:
            data = b"not a model, only bytes" * 1000
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            assert c.head(f"/api/blobs/{digest}").status_code == 404
            # A client-streaming RPC (CreateBlob) in pieces, as the shim sends a body.
            assert c.post(f"/api/blobs/{digest}", content=iter([data[:5000], data[5000:]])).status_code == 201
            assert c.head(f"/api/blobs/{digest}").status_code == 200
            wrong = c.post(f"/api/blobs/sha256:{'0' * 64}", content=data)
            assert wrong.status_code == 400, wrong.text
    finally:
        server.stop()


def test_sigterm_drains_a_rest_stream_in_flight(tmp_path):
    """As over gRPC (test_shutdown.py): after SIGTERM a new request is still answered for
    the drain delay, then the REST port closes, and the stream in flight runs to its
    end; the process then exits 0 although its grace is ten minutes."""
    server, url = _rest_server(tmp_path, TOKENWIRE_SHUTDOWN_GRACE="600", TOKENWIRE_DRAIN_DELAY="3")
    port = int(url.rsplit(":", 1)[1])
    try:
        body = {**COUNTING, "options": {"temperature": 0, "num_predict": 400}}
        with httpx.Client(base_url=url, timeout=120) as c, c.stream("POST", "/api/generate", json=body) as r:
            lines = r.iter_lines()
            assert not json.loads(next(lines))["done"]
            server.terminate()
            with httpx.Client(base_url=url, timeout=30) as late:
                one = {"model": MODEL, "prompt": "late", "stream": False, "options": {"num_predict": 2}}
                assert late.post("/api/generate", json=one).json()["done"]
            deadline = time.monotonic() + 30
            while not _refused(port) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _refused(port), "the REST port stayed open after the drain delay"
            final = json.loads(list(lines)[-1])
        assert final["done"] and final["eval_count"] == 400
        assert server.wait(60) == 0
    finally:
        server.stop()

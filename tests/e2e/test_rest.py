"""The REST shim over the real server: Ollama's byte shapes for /, /api/version, /api/generate."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.conftest import MODEL
from tests.procs import rest_address, start_rest_server, start_server, start_shim

PROMPT = "Why is the sky blue?"
GREEDY = {"temperature": 0, "seed": 42}
RFC3339_NANO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
METRICS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


def ndjson(client: httpx.Client, path: str, body: dict) -> tuple[httpx.Response, list[dict]]:
    with client.stream("POST", path, json=body, timeout=120) as r:
        lines = [json.loads(line) for line in r.iter_lines() if line]
    return r, lines


@pytest.fixture
def client(shim_url):
    with httpx.Client(base_url=shim_url) as c:
        yield c


def test_root_and_version(client):
    r = client.get("/")
    assert r.status_code == 200 and r.text == "Ollama is running"
    assert r.headers["content-type"].startswith("text/plain")
    assert client.head("/").status_code == 200
    r = client.get("/api/version")
    assert r.status_code == 200 and r.json() == {"version": "0.33.0"}
    assert client.head("/api/version").status_code == 200


def test_streamed_generate_is_ollama_ndjson(client):
    r, lines = ndjson(
        client, "/api/generate", {"model": MODEL, "prompt": PROMPT, "options": {**GREEDY, "num_predict": 32}}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    *body, final = lines
    for chunk in body:
        assert list(chunk) == ["model", "created_at", "response", "done"]
        assert chunk["model"] == MODEL and chunk["done"] is False and chunk["response"]
    for chunk in lines:
        assert RFC3339_NANO_UTC.match(chunk["created_at"]), chunk["created_at"]
    assert final["done"] is True and final["response"] == ""
    assert final["done_reason"] in ("stop", "length")
    # Present, positive where measured, JSON numbers (never strings), consistent.
    for key in METRICS:
        assert type(final[key]) is int and final[key] > 0, key
    assert final["eval_count"] == len(body)
    assert final["total_duration"] >= final["prompt_eval_duration"] + final["eval_duration"]
    assert all(type(t) is int for t in final["context"])
    keys = list(final)
    assert keys[:6] == ["model", "created_at", "response", "done", "done_reason", "context"]
    assert [k for k in keys if k in METRICS] == [k for k in METRICS if k in final]


def test_stream_false_equals_the_concatenated_stream(client):
    body = {"model": MODEL, "prompt": PROMPT, "options": {**GREEDY, "num_predict": 24}}
    _, lines = ndjson(client, "/api/generate", body)
    r = client.post("/api/generate", json={**body, "stream": False}, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json; charset=utf-8"
    one = r.json()
    assert one["done"] is True and one["response"] == "".join(c["response"] for c in lines)
    assert one["eval_count"] == lines[-1]["eval_count"]


def test_unknown_model_is_404_with_ollamas_message(client):
    r = client.post("/api/generate", json={"model": "x", "prompt": "hi"})
    assert r.status_code == 404
    assert r.content == b'{"error":"model \'x\' not found"}'
    r = client.post("/api/generate", json={"model": "x", "prompt": "hi", "stream": False})
    assert r.status_code == 404 and r.json() == {"error": "model 'x' not found"}


def test_bad_requests(client):
    r = client.post("/api/generate", content=b"")
    assert r.status_code == 400 and r.json() == {"error": "missing request body"}
    r = client.post("/api/generate", json={"model": MODEL, "prompt": "x", "stream": "yes"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool"
    }
    r = client.post("/api/generate", json={"model": MODEL, "prompt": "x", "keep_alive": "3600"})
    assert r.status_code == 400 and r.json() == {"error": 'time: missing unit in duration "3600"'}
    r = client.post(
        "/api/generate", json={"model": MODEL, "prompt": "x", "raw": True, "template": "{{ .Prompt }}"}
    )
    assert r.status_code == 400
    assert r.json() == {"error": "raw mode does not support template, system, or context"}
    assert client.get("/api/generate").status_code == 405
    r = client.get("/no/such/route")
    assert r.status_code == 404 and r.json() == {"error": "404 page not found"}
    r = client.post("/v1/no/such/route", json={})
    assert r.status_code == 404 and r.json()["error"]["message"] == "404 page not found"
    assert client.get("/api/generate").json() == {"error": "405 method not allowed"}


def test_chat_streams_an_assistant_message(client):
    r, lines = ndjson(
        client,
        "/api/chat",
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Say hi"}],
            "options": {**GREEDY, "num_predict": 8},
        },
    )
    assert r.status_code == 200
    final = lines[-1]
    assert list(final)[:5] == ["model", "created_at", "message", "done_reason", "done"]
    assert final["message"] == {"role": "assistant", "content": ""}
    assert "".join(c["message"]["content"] for c in lines[:-1])
    assert final["eval_count"] == len(lines) - 1


CTX_8K = {**GREEDY, "num_ctx": 8192}  # both requests load the model alike
LONG = {"model": MODEL, "prompt": "Tell me a long story.", "options": {**CTX_8K, "num_predict": 100_000}}


def _abandon_then_generate(tmp_path, abandon, *, inprocess: bool = False) -> str:
    """On a one-slot server, `abandon(client)` leaves a long generation midway; the
    next request only runs if that generation really stopped. Returns the REST side's
    log: the shim's, or with `inprocess` the server's that serves REST itself."""
    if inprocess:
        server = start_rest_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="1")
        shim, url = server, rest_address(server)
    else:
        server = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="1")
        shim = start_shim(server.address)
        url = shim.address
    try:
        with httpx.Client(base_url=f"http://{url}") as c:
            abandon(c)
            r = c.post(
                "/api/generate",
                json={
                    "model": MODEL,
                    "prompt": PROMPT,
                    "stream": False,
                    "options": {**CTX_8K, "num_predict": 4},
                },
                timeout=30,
            )
            assert r.status_code == 200 and r.json()["eval_count"] == 4
    finally:
        shim.stop()
        server.stop()
    return "".join(shim.log)


def leave_a_stream(c: httpx.Client) -> None:
    with c.stream("POST", "/api/generate", json=LONG, timeout=60) as r:
        lines = r.iter_lines()
        next(lines)
        next(lines)
    # Leaving the block closed the connection mid-stream.


def test_client_disconnect_cancels_the_generation(tmp_path):
    assert "Traceback" not in _abandon_then_generate(tmp_path, leave_a_stream)


def test_client_leaving_a_stream_false_request_cancels_it(tmp_path):
    """stream:false waits for one answer; a client that gives up first must stop the
    generation too, and the shim must answer its 499 cleanly rather than fail inside
    the route."""

    def abandon(c: httpx.Client) -> None:
        with pytest.raises(httpx.ReadTimeout):
            c.post("/api/generate", json={**LONG, "stream": False}, timeout=httpx.Timeout(60, read=3))

    assert "Traceback" not in _abandon_then_generate(tmp_path, abandon)


def leave_while_queued(c: httpx.Client) -> None:
    """Behind a long generation on the one slot, a streamed request waits with no byte
    to send; its client leaving must cancel it there, or it would take the slot (and
    decode 100,000 tokens) before the next request."""
    with c.stream("POST", "/api/generate", json=LONG, timeout=60) as running:
        lines = running.iter_lines()
        next(lines)  # A holds the slot
        queued = httpx.Client(base_url=str(c.base_url))
        try:
            with pytest.raises(httpx.ReadTimeout):
                with queued.stream(
                    "POST", "/api/generate", json=LONG, timeout=httpx.Timeout(60, read=2)
                ) as r:
                    next(r.iter_lines())
        finally:
            queued.close()  # B leaves before its first token
    # Leaving this block ends A too; only C, the helper's request, may run now.


def test_a_client_leaving_while_queued_cancels_before_its_first_token(tmp_path):
    assert "Traceback" not in _abandon_then_generate(tmp_path, leave_while_queued)


def check_the_generate_deadline(url: str) -> None:
    """What TOKENWIRE_DEADLINE_GENERATE=1.5 does to /api/generate: streamed, the deadline
    ends the 200 stream with an error line; not streamed, it is a 504. Other routes are
    unbounded."""
    body = {"model": MODEL, "prompt": "Tell me a long story.", "options": {**GREEDY, "num_predict": 100_000}}
    with httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/api/generate", json=body)
        assert r.status_code == 200
        lines = [json.loads(x) for x in r.text.splitlines()]
        assert lines[-1] == {"error": "Deadline Exceeded"}
        assert len(lines) > 2 and all("response" in x for x in lines[:-1])
        r = c.post("/api/generate", json={**body, "stream": False})
        assert (r.status_code, r.json()) == (504, {"error": "Deadline Exceeded"})
        r = c.post("/api/chat", json={"model": MODEL, "messages": [], "stream": False})
        assert r.status_code == 200


def test_per_route_deadline_from_configuration(server):
    shim = start_shim(server.address, TOKENWIRE_DEADLINE_GENERATE="1.5")
    try:
        check_the_generate_deadline(f"http://{shim.address}")
    finally:
        shim.stop()


def test_format_json_ends_when_the_value_is_complete(client):
    """As `ollama run --format json` asks: the stream stops once the JSON value is whole
    (llama.cpp's grammar then admits only end-of-generation), not at num_predict. A
    schema with one boolean must end within a few tokens whatever the model prefers; with
    plain "json" a greedy answer may nest objects until num_predict (SmolLM2 does for
    "hello" on an AVX2-only CPU, and did not on another), so that case takes a prompt
    whose greedy answer closes its object."""
    flag = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    for prompt, fmt in (("Is the sky blue?", flag), ("What is your name?", "json")):
        body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "format": fmt,
                "options": {"num_predict": 400, "temperature": 0}}  # fmt: skip
        r, lines = ndjson(client, "/api/chat", body)
        assert r.status_code == 200 and lines[-1]["done_reason"] == "stop", lines[-1]
        assert lines[-1]["eval_count"] < 400
        text = "".join(line["message"]["content"] for line in lines)
        value = json.loads(text)
        if fmt is flag:
            assert isinstance(value["ok"], bool)
        assert len(text) - len(text.rstrip()) <= 1  # at most the grammar's one closing newline

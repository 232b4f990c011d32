"""HTTP hygiene as Ollama: CORS with OLLAMA_ORIGINS, Host-header check, body limit."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import MODEL
from tests.procs import start_shim


@pytest.fixture(scope="module")
def strict(server):
    """A second shim on the session's server with extra origins and a small body limit."""
    proc = start_shim(
        server.address,
        OLLAMA_ORIGINS="https://*.example.com, http://tool.test",
        TOKENWIRE_MAX_BODY_BYTES="2000",
    )
    yield f"http://{proc.address}"
    proc.stop()


def test_default_origins_get_cors_headers_and_others_403(shim_url):
    for origin in (
        "http://localhost:3000",
        "https://127.0.0.1",
        "app://obsidian.md",
        "chrome-extension://abc",
    ):
        r = httpx.get(f"{shim_url}/api/version", headers={"Origin": origin})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin, origin
    r = httpx.get(f"{shim_url}/api/version", headers={"Origin": "https://evil.example.org"})
    assert (r.status_code, r.content) == (403, b"")
    r = httpx.get(f"{shim_url}/api/version")
    assert "access-control-allow-origin" not in r.headers


def test_preflight(shim_url):
    r = httpx.options(
        f"{shim_url}/api/chat",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "Content-Type" in r.headers["access-control-allow-headers"]
    assert httpx.options(f"{shim_url}/api/tags").status_code == 204


def test_ollama_origins_adds_patterns(strict):
    for origin, status in (
        ("https://app.example.com", 200),
        ("http://tool.test", 200),
        ("https://example.net", 403),
    ):
        assert httpx.get(f"{strict}/api/version", headers={"Origin": origin}).status_code == status


def test_host_header_check_on_loopback(shim_url):
    for host, status in (("evil.com", 403), ("localhost:11434", 200), ("box.local", 200), ("10.0.0.5", 200)):
        r = httpx.get(f"{shim_url}/api/version", headers={"Host": host})
        assert r.status_code == status, host


def test_body_limit_answers_413(strict):
    r = httpx.post(f"{strict}/api/generate", json={"model": MODEL, "prompt": "x" * 5000})
    assert (r.status_code, r.json()) == (413, {"error": "http: request body too large"})

    def chunks():  # no Content-Length: counted while reading
        for _ in range(10):
            yield b" " * 500

    r = httpx.post(f"{strict}/api/generate", content=chunks())
    assert r.status_code == 413
    r = httpx.post(f"{strict}/api/show", json={"model": MODEL})
    assert r.status_code == 200

"""Registry auth helpers: challenges, credentials, Ollama's signed token request, and
the part-size rule (server/registry)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.registry.auth import (
    Challenge,
    Credentials,
    OllamaKey,
    parse_challenge,
    signed_payload,
    token_request_params,
)
from server.registry.client import MAX_PART, MIN_PART, part_size


def test_parse_bearer_and_basic_challenges():
    header = (
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:library/a:pull,push repository:library/b:pull"'
    )
    assert parse_challenge(header) == Challenge(
        "bearer",
        "https://auth.example.com/token",
        "registry.example.com",
        "repository:library/a:pull,push repository:library/b:pull",
    )
    assert parse_challenge('Basic realm="basic-realm"') == Challenge("basic", "basic-realm")
    assert parse_challenge("") is None
    params = token_request_params(parse_challenge(header))
    assert params[:3] == [
        ("service", "registry.example.com"),
        ("scope", "repository:library/a:pull,push"),
        ("scope", "repository:library/b:pull"),
    ]
    assert [k for k, _ in params[3:]] == ["ts", "nonce"]


def test_credentials_from_a_docker_config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "registry.example.com:5000": {"auth": base64.b64encode(b"alice:pa:ss").decode()},
                    "https://other.example.com/v1/": {"username": "bob", "password": "pw"},
                }
            }
        )
    )
    creds = Credentials.load(path)
    assert (
        creds.for_host("Registry.Example.com:5000").header()
        == "Basic " + base64.b64encode(b"alice:pa:ss").decode()
    )
    assert (creds.for_host("other.example.com").username, creds.for_host("other.example.com").password) == (
        "bob",
        "pw",
    )
    assert creds.for_host("unknown.example.com") is None
    assert Credentials.load(tmp_path / "absent.json").for_host("registry.example.com:5000") is None


def test_ollama_signature_verifies_against_the_public_key(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "id_ed25519"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    url = str(httpx.URL("https://registry.ollama.ai/v2/token").copy_merge_params({"service": "s"}))
    header = OllamaKey(path).sign(signed_payload(url))
    public_b64, signature_b64 = header.split(":")
    # `<base64 public key as in authorized_keys>:<base64 raw signature>`, as Ollama's auth.Sign.
    public = serialization.load_ssh_public_key(b"ssh-ed25519 " + public_b64.encode())
    assert isinstance(public, Ed25519PublicKey)
    empty_sha = base64.b64encode(b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").decode()
    public.verify(base64.b64decode(signature_b64), f"GET,{url},{empty_sha}".encode())
    assert parse_qs(url.split("?")[1]) == {"service": ["s"]}
    assert not OllamaKey(tmp_path / "missing").available()


def test_part_size_follows_ollama_with_an_optional_lower_floor():
    assert part_size(98_000_000, 16, 0) == MIN_PART  # small blobs: one 100 MB part
    assert part_size(4_000_000_000, 16, 0) == 250_000_000
    assert part_size(40_000_000_000, 16, 0) == MAX_PART
    assert part_size(98_000_000, 16, 16 << 20) == 16 << 20

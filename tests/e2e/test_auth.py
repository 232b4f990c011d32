"""Authentication and TLS with real clients: ollama-python, the openai and anthropic
SDKs, grpcurl and grpcio, with credentials and without."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import grpc
import httpx
import ollama
import openai
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.auth import main as auth_main
from server.settings import Settings
from tests.conftest import MODEL
from tests.procs import ROOT, Proc, start_server, start_shim
from tests.registry import make_tls
from tokenwire.v1 import models_pb2, models_pb2_grpc

USER, PASSWORD = "admin", "s3cret"
GRPCURL = Settings.from_env().cache_dir / "bin" / "grpcurl-v1.9.3"
ONE = {"temperature": 0, "num_predict": 2}


@dataclass
class Env:
    server: Proc
    shim: Proc
    key: str
    tls: Path

    @property
    def url(self) -> str:
        return f"http://{self.shim.address}"


def _key(path: Path) -> str:
    """`python -m server.auth add`, as an operator runs it: the key is printed once."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        auth_main(["add", "ci", "--file", str(path)])
    return buf.getvalue().strip()


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("auth")
    keys = root / "keys"
    key = _key(keys)
    assert key.startswith("tw_") and key not in keys.read_text()  # only its digest is stored
    make_tls(root / "tls")
    server = start_server(
        root / "models", OLLAMA_BASIC_AUTH=f"{USER}:{PASSWORD}", TOKENWIRE_API_KEYS=str(keys)
    )
    shim = start_shim(server.address)
    try:
        yield Env(server, shim, key, root / "tls")
    finally:
        shim.stop()
        server.stop()


def test_ollama_python_with_basic_auth_and_with_a_bearer_header(env):
    basic = ollama.Client(host=env.url, auth=(USER, PASSWORD))
    assert basic.generate(model=MODEL, prompt="hi", options=ONE).done
    bearer = ollama.Client(host=env.url, headers={"Authorization": f"Bearer {env.key}"})
    assert any(m.model == MODEL for m in bearer.list().models)
    with pytest.raises(ollama.ResponseError) as e:
        ollama.Client(host=env.url).generate(model=MODEL, prompt="hi", options=ONE)
    assert e.value.status_code == 401 and e.value.error == "unauthorized: missing credentials"
    with pytest.raises(ollama.ResponseError) as e:
        ollama.Client(host=env.url, auth=(USER, "wrong")).list()
    assert e.value.status_code == 401 and e.value.error == "unauthorized: invalid credentials"


def test_401_in_each_envelope_with_www_authenticate(env):
    with httpx.Client(base_url=env.url, timeout=30) as c:
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "hi"})
        assert r.status_code == 401 and r.json() == {"error": "unauthorized: missing credentials"}
        assert r.headers["www-authenticate"] == 'Basic realm="tokenwire", Bearer realm="tokenwire"'
        r = c.post(
            "/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        )
        assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
        assert "www-authenticate" in r.headers
        r = c.post("/v1/messages", json={"model": MODEL, "max_tokens": 2, "messages": []})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        assert c.get("/").text == "Ollama is running"  # the root stays open for probes


def test_openai_and_anthropic_sdks_send_their_keys(env):
    client = openai.OpenAI(base_url=f"{env.url}/v1", api_key=env.key)
    out = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2, temperature=0
    )
    assert out.choices[0].message.content is not None
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{env.url}/v1", api_key="wrong").models.list()
    claude = anthropic.Anthropic(base_url=env.url, api_key=env.key)
    msg = claude.messages.create(model=MODEL, max_tokens=2, messages=[{"role": "user", "content": "hi"}])
    assert msg.content
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=env.url, api_key="wrong").messages.create(
            model=MODEL, max_tokens=2, messages=[{"role": "user", "content": "hi"}]
        )


def test_cors_and_host_check_keep_working_with_auth(env):
    with httpx.Client(base_url=env.url, timeout=30) as c:
        r = c.options(
            "/api/chat", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
        )
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "http://localhost:3000"
        r = c.get("/api/tags", headers={"Origin": "http://localhost:3000"}, auth=(USER, PASSWORD))
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert c.get("/api/tags", headers={"Origin": "http://evil.example"}).status_code == 403
        assert c.get("/api/tags", headers={"Host": "evil.example"}, auth=(USER, PASSWORD)).status_code == 403


def _grpcurl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRPCURL), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_grpcurl_with_an_authorization_header(env):
    addr = env.server.address
    out = _grpcurl(
        "-plaintext", "-H", f"authorization: Bearer {env.key}", addr, "tokenwire.v1.ModelService/ListModels"
    )
    assert out.returncode == 0, out.stderr
    assert MODEL in [m["name"] for m in json.loads(out.stdout)["models"]]
    refused = _grpcurl("-plaintext", addr, "tokenwire.v1.ModelService/ListModels")
    assert refused.returncode != 0 and "Unauthenticated" in refused.stderr
    # Health is open for probes (which call it directly, as grpc_health_probe and the
    # kubelet do); reflection follows auth, so grpcurl needs credentials even to list.
    with grpc.insecure_channel(addr) as ch:
        status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    assert _grpcurl("-plaintext", addr, "list").returncode != 0
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    listed = _grpcurl("-plaintext", "-H", f"authorization: Basic {basic}", addr, "list")
    assert listed.returncode == 0 and "tokenwire.v1.InferenceService" in listed.stdout


@pytest.fixture(scope="module")
def mtls(env) -> Iterator[tuple[Proc, Proc]]:
    tls = env.tls
    server = start_server(
        tls.parent / "mtls-models",
        TOKENWIRE_TLS_CERT=str(tls / "cert.pem"),
        TOKENWIRE_TLS_KEY=str(tls / "key.pem"),
        TOKENWIRE_TLS_CLIENT_CA=str(tls / "ca.pem"),
        TOKENWIRE_REFLECTION="false",
    )
    shim = start_shim(
        server.address,
        TOKENWIRE_GRPC_CA=str(tls / "ca.pem"),
        TOKENWIRE_GRPC_CLIENT_CERT=str(tls / "client.pem"),
        TOKENWIRE_GRPC_CLIENT_KEY=str(tls / "client-key.pem"),
        TOKENWIRE_HTTPS_CERT=str(tls / "cert.pem"),
        TOKENWIRE_HTTPS_KEY=str(tls / "key.pem"),
    )
    try:
        yield server, shim
    finally:
        shim.stop()
        server.stop()


def test_mutual_tls_requires_a_client_certificate(env, mtls):
    server, _ = mtls
    tls = env.tls
    good = grpc.ssl_channel_credentials(
        root_certificates=(tls / "ca.pem").read_bytes(),
        private_key=(tls / "client-key.pem").read_bytes(),
        certificate_chain=(tls / "client.pem").read_bytes(),
    )
    with grpc.secure_channel(server.address, good) as ch:
        listed = models_pb2_grpc.ModelServiceStub(ch).ListModels(models_pb2.ListModelsRequest(), timeout=30)
        assert any(m.name == MODEL for m in listed.models)
    no_cert = grpc.ssl_channel_credentials(root_certificates=(tls / "ca.pem").read_bytes())
    with grpc.secure_channel(server.address, no_cert) as ch:
        with pytest.raises(grpc.RpcError) as e:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    # grpcurl over TLS with -cacert (and the client certificate mutual TLS asks for);
    # reflection is off on this server, so grpcurl is given the proto files.
    out = _grpcurl(
        "-cacert", str(tls / "ca.pem"), "-cert", str(tls / "client.pem"), "-key", str(tls / "client-key.pem"),
        "-import-path", "proto", "-proto", "tokenwire/v1/models.proto",
        server.address, "tokenwire.v1.VersionService/GetVersion",
    )  # fmt: skip
    assert out.returncode == 0 and '"version"' in out.stdout, out.stderr
    no_client = _grpcurl("-cacert", str(tls / "ca.pem"), server.address, "grpc.health.v1.Health/Check")
    assert no_client.returncode != 0
    plain = _grpcurl("-plaintext", server.address, "grpc.health.v1.Health/Check")
    assert plain.returncode != 0


def test_the_shim_serves_https_over_a_mutual_tls_channel(env, mtls):
    _, shim = mtls
    trust = ssl.create_default_context(cafile=str(env.tls / "ca.pem"))
    with httpx.Client(base_url=f"https://{shim.address}", verify=trust, timeout=60) as c:
        r = c.post("/api/generate", json={"model": MODEL, "prompt": "hi", "stream": False, "options": ONE})
        assert r.status_code == 200 and r.json()["done"]


def test_reflection_can_be_turned_off(env, mtls):
    server, _ = mtls
    tls = env.tls
    out = _grpcurl(
        "-cacert", str(tls / "ca.pem"), "-cert", str(tls / "client.pem"), "-key", str(tls / "client-key.pem"),
        server.address, "list",
    )  # fmt: skip
    assert out.returncode != 0 and "reflection" in out.stderr.lower()


def test_no_secret_reaches_a_log(env):
    with httpx.Client(base_url=env.url, timeout=30) as c:
        c.get("/api/tags", auth=(USER, "wrong-password-xyz"))
        c.get("/api/tags", headers={"Authorization": "Bearer tw_not_a_real_key_xyz"})
    logs = "".join(env.server.log + env.shim.log)
    for secret in (PASSWORD, env.key, "wrong-password-xyz", "tw_not_a_real_key_xyz"):
        assert secret not in logs


def test_the_cli_sends_the_api_key_on_every_call(env, tmp_path):
    """`list` goes through a client method, `show -v`, `status` and `create -f` through
    stubs on Client.channel: all carry TOKENWIRE_API_KEY."""
    import os
    import sys

    cli = str(Path(sys.executable).parent / "tokenwire")
    (tmp_path / "Modelfile").write_text(f"FROM {MODEL}\nPARAMETER num_predict 4\n")
    base = {**os.environ, "TOKENWIRE_GRPC_ADDR": env.server.address}
    base.pop("TOKENWIRE_API_KEY", None)
    base.pop("OLLAMA_API_KEY", None)
    commands = (
        ["list"],
        ["show", MODEL, "-v"],
        ["status"],
        ["create", "auth-cli", "-f", str(tmp_path / "Modelfile")],
    )
    for args in commands:
        done = subprocess.run([cli, *args], env={**base, "TOKENWIRE_API_KEY": env.key},
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, (args, done.stderr)
        refused = subprocess.run([cli, *args], env=base, capture_output=True, text=True, timeout=120)
        assert (refused.returncode, refused.stderr) == (1, "Error: unauthorized: missing credentials\n"), args

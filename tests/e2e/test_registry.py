"""Pull and push against a real registry (issue 6): Debian's docker-registry on
127.0.0.1, behind a byte-counting proxy that can cut connections, with and without
token auth; a tokenwire server of its own (its own store) with small transfer parts
so that a 98 MB model moves in several ranged parts and upload chunks."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.conftest import MODEL, store_snapshot
from tests.procs import Proc, start_server, start_shim
from tests.registry import Proxy, Registry, TokenServer, make_tls
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, models_pb2, models_pb2_grpc

PART = 16 << 20
SERVER_ENV = {
    "TOKENWIRE_REGISTRY_PART_SIZE": str(PART),
    "TOKENWIRE_REGISTRY_RETRIES": "2",
    "TOKENWIRE_REGISTRY_BACKOFF": "0.2",
}


class Env:
    def __init__(self, root: Path, registry: Registry, proxy: Proxy, server: Proc, models_dir: Path):
        self.root = root
        self.registry = registry
        self.proxy = proxy
        self.server = server
        self.models_dir = models_dir
        self.channel = grpc.insecure_channel(server.address)
        self.models = models_pb2_grpc.ModelServiceStub(self.channel)
        self.inference = inference_pb2_grpc.InferenceServiceStub(self.channel)

    def remote(self, model: str = "smollm2:135m", namespace: str = "library") -> str:
        return f"{self.proxy.address}/{namespace}/{model}"

    def pull(self, name: str, **kw) -> list[models_pb2.PullModelResponse]:
        return list(self.models.PullModel(models_pb2.PullModelRequest(model=name, insecure=True, **kw)))

    def push(self, name: str, **kw) -> list[models_pb2.PushModelResponse]:
        return list(self.models.PushModel(models_pb2.PushModelRequest(model=name, insecure=True, **kw)))

    def clear(self) -> None:
        for m in self.models.ListModels(models_pb2.ListModelsRequest()).models:
            self.models.DeleteModel(models_pb2.DeleteModelRequest(model=m.name))
        assert not list((self.models_dir / "blobs").glob("sha256-*"))

    def blob(self, digest: str) -> Path:
        return self.models_dir / "blobs" / digest.replace(":", "-")


def _env(
    root: Path,
    token_server: TokenServer | None = None,
    basic: tuple[str, str] | None = None,
    tls: bool = False,
) -> Iterator[Env]:
    extra = {}
    certs = None
    if tls:
        ca, cert, key = make_tls(root / "tls")
        certs = (cert, key)
        extra["SSL_CERT_FILE"] = str(ca)  # the server trusts the test CA, as a company would its own
    registry = Registry(root / "registry", token_server, basic=basic, tls=certs).start()
    proxy = Proxy(registry.address)
    models_dir = root / "models"
    creds = basic or (token_server and (token_server.username, token_server.password))
    if creds:
        # Credentials for the proxy's address, which is the host in the model names.
        auth = root / "auth.json"
        user = {"auth": base64.b64encode(":".join(creds).encode()).decode()}
        auth.write_text(json.dumps({"auths": {proxy.address: user}}))
        extra["TOKENWIRE_REGISTRY_AUTH"] = str(auth)
    server = start_server(models_dir, **SERVER_ENV, **extra)
    env = Env(root, registry, proxy, server, models_dir)
    try:
        yield env
    finally:
        env.channel.close()
        server.stop()
        proxy.close()
        registry.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Env]:
    yield from _env(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="module")
def published(env: Env) -> dict[str, str]:
    """smollm2 pushed to the registry as <proxy>/library/smollm2:135m; returns each
    layer's digest -> sha256 of the local file before the push."""
    remote = env.remote()
    env.models.CopyModel(models_pb2.CopyModelRequest(source=MODEL, destination=remote))
    manifest = json.loads(
        (env.models_dir / "manifests" / env.proxy.address / "library/smollm2/135m").read_bytes()
    )
    digests = [layer["digest"] for layer in manifest["layers"]] + [manifest["config"]["digest"]]
    hashes = {d: "sha256:" + hashlib.sha256(env.blob(d).read_bytes()).hexdigest() for d in digests}
    lines = env.push(remote)
    assert lines[0].status == "retrieving manifest"
    assert [x.status for x in lines[-2:]] == ["pushing manifest", "success"]
    for d in digests:
        last = [x for x in lines if x.digest == d][-1]
        assert (
            last.status == f"pushing {d[7:19]}" and last.completed == last.total == env.blob(d).stat().st_size
        )
    return hashes


def twice_at_once(call) -> list:
    """Run `call` in two threads at once; both results (an RPC error fails the test)."""
    results: list = [None, None]

    def run(i: int) -> None:
        try:
            results[i] = call()
        except grpc.RpcError as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert not isinstance(r, grpc.RpcError), r
    return results


def _model_digest(hashes: dict[str, str], env: Env) -> str:
    return max(hashes, key=lambda d: env.registry.blob_data(d).stat().st_size)


def generate_text(env: Env, model: str) -> str:
    req = inference_pb2.GenerateRequest(model=model, prompt="Say hi.", stream=False)
    req.options.num_predict = 8
    req.options.temperature = 0
    return "".join(r.response for r in env.inference.Generate(req))


def test_push_delete_pull_round_trip(env: Env, published: dict[str, str]):
    remote = env.remote()
    model_digest = _model_digest(published, env)
    size = env.registry.blob_data(model_digest).stat().st_size
    # The push sent the weights in ceil(size / part) PATCH chunks, each small layer in one.
    patches = [r for r in env.registry.requests() if r["http.request.method"] == "PATCH"]
    assert len(patches) == math.ceil(size / PART) + len(published) - 1
    # The registry holds byte-identical blobs.
    for d, h in published.items():
        assert "sha256:" + hashlib.sha256(env.registry.blob_data(d).read_bytes()).hexdigest() == h == d

    env.clear()
    log_mark = len(env.registry.requests())
    lines = env.pull(remote)
    statuses = [x.status for x in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    assert {x.digest for x in lines if x.status.startswith("pulling ")} - {""} == set(published)
    for d, h in published.items():
        assert "sha256:" + hashlib.sha256(env.blob(d).read_bytes()).hexdigest() == h
    # The weights came in ranged parts.
    gets = [
        r
        for r in env.registry.requests()[log_mark:]
        if r["http.request.method"] == "GET" and model_digest in r["http.request.uri"]
    ]
    assert len(gets) == math.ceil(size / PART)
    assert all(r["http.response.status"] == "206" for r in gets)
    assert sum(int(r["http.response.written"]) for r in gets) == size
    assert not list((env.models_dir / "blobs").glob("*partial*"))

    tags = {m.name for m in env.models.ListModels(models_pb2.ListModelsRequest()).models}
    assert tags == {f"{env.proxy.address}/library/smollm2:135m"}
    assert generate_text(env, remote).strip()

    # Pulling again is all cache hits: one completed line per layer, nothing downloaded.
    before = env.proxy.downstream
    again = env.pull(remote)
    layer_lines = [x for x in again if x.status.startswith("pulling ") and x.digest]
    assert len(layer_lines) == len(published) and all(x.completed == x.total for x in layer_lines)
    assert env.proxy.downstream - before < 10_000


def test_pull_over_a_different_local_model_removes_its_unused_layers(env: Env, published):
    remote = env.remote()
    env.models.DeleteModel(models_pb2.DeleteModelRequest(model=remote))
    env.pull(remote)
    # The same name now holds a local variant with an extra system layer.
    variant = list(
        env.models.CreateModel(
            models_pb2.CreateModelRequest(
                model=remote, system="A layer only this variant has.", **{"from": remote}
            )
        )
    )
    assert variant[-1].status == "success"
    manifest = json.loads(
        (env.models_dir / "manifests" / env.proxy.address / "library/smollm2/135m").read_bytes()
    )
    extra = {x["digest"] for x in manifest["layers"]} - set(published)
    assert extra and all(env.blob(d).exists() for d in extra)
    statuses = [x.status for x in env.pull(remote)]
    assert statuses[-4:] == [
        "verifying sha256 digest",
        "writing manifest",
        "removing unused layers",
        "success",
    ]
    assert not any(env.blob(d).exists() for d in extra)


def test_pull_stream_false_answers_only_success(env: Env, published):
    lines = env.pull(env.remote(), stream=False)
    assert [x.status for x in lines] == ["success"]


def test_unknown_model_fails_without_touching_the_store(env: Env, published):
    snap = store_snapshot(env.models_dir)
    stream = env.models.PullModel(models_pb2.PullModelRequest(model=env.remote("nope:latest"), insecure=True))
    first = next(stream)
    assert first.status == "pulling manifest"
    with pytest.raises(grpc.RpcError) as e:
        next(stream)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert e.value.details() == "pull model manifest: file does not exist"
    assert store_snapshot(env.models_dir) == snap


def test_unreachable_and_insecure_errors(env: Env):
    with pytest.raises(grpc.RpcError) as e:
        env.pull("127.0.0.1:9/library/x:latest")
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert e.value.details() == (
        'pull model manifest: Get "http://127.0.0.1:9/v2/library/x/manifests/latest": '
        "dial tcp 127.0.0.1:9: connect: connection refused"
    )
    with pytest.raises(grpc.RpcError) as e:
        list(env.models.PullModel(models_pb2.PullModelRequest(model=f"http://{env.remote()}")))
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "insecure protocol http")
    with pytest.raises(grpc.RpcError) as e:
        env.pull("bad name!")
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid model name")
    with pytest.raises(grpc.RpcError) as e:
        env.push("")
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "model is required")
    with pytest.raises(grpc.RpcError) as e:
        env.push(env.remote("absent:latest"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_corrupted_blob_fails_verification_and_leaves_the_store_unchanged(env: Env, published):
    env.clear()
    snap = store_snapshot(env.models_dir)
    model_digest = _model_digest(published, env)
    data = env.registry.blob_data(model_digest)
    original = data.read_bytes()
    corrupted = bytearray(original)
    corrupted[len(corrupted) // 2] ^= 0xFF
    data.write_bytes(bytes(corrupted))
    try:
        with pytest.raises(grpc.RpcError) as e:
            env.pull(env.remote())
    finally:
        data.write_bytes(original)
    assert e.value.code() == grpc.StatusCode.DATA_LOSS
    got = "sha256:" + hashlib.sha256(corrupted).hexdigest()
    assert e.value.details() == (
        f"digest mismatch, file must be downloaded again: want {model_digest}, got {got}"
    )
    # The smaller layers verified fine, but a failed pull takes back what it placed.
    assert store_snapshot(env.models_dir) == snap


def test_connection_cut_mid_pull_resumes_from_the_bytes_it_has(env: Env, published):
    env.clear()
    model_digest = _model_digest(published, env)
    size = env.registry.blob_data(model_digest).stat().st_size
    before = env.proxy.downstream
    env.proxy.cut_after(size * 2 // 5)  # every connection drops at 40%; the parts retry
    env.pull(env.remote())
    moved = env.proxy.downstream - before
    # Restarting from zero would move at least 1.4 x size.
    assert size <= moved < size * 1.1
    assert "sha256:" + hashlib.sha256(env.blob(model_digest).read_bytes()).hexdigest() == model_digest


def test_registry_stopped_mid_pull_then_pull_again_resumes(env: Env, published):
    env.clear()
    model_digest = _model_digest(published, env)
    size = env.registry.blob_data(model_digest).stat().st_size
    before = env.proxy.downstream
    env.proxy.cut_after(size // 2, then=env.registry.stop)
    with pytest.raises(grpc.RpcError) as e:
        env.pull(env.remote())
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert e.value.details().startswith("max retries exceeded: ")
    had = env.proxy.downstream - before
    # Nothing visible: no manifest, no blob; the partial file and its part states stay.
    assert not env.blob(model_digest).exists()
    assert not (env.models_dir / "manifests" / env.proxy.address).exists()
    partial = env.blob(model_digest).with_name(env.blob(model_digest).name + "-partial")
    states = [json.loads(p.read_bytes()) for p in partial.parent.glob(partial.name + "-*")]
    assert len(states) == math.ceil(size / PART)
    saved = sum(s["Completed"] for s in states)
    assert 0 < saved <= had

    env.registry.start()
    before = env.proxy.downstream
    lines = env.pull(env.remote())
    moved = env.proxy.downstream - before
    first = next(x for x in lines if x.digest == model_digest)
    assert first.completed == saved  # the resumed pull starts from the saved bytes
    assert moved < size - saved + (1 << 20)
    assert "sha256:" + hashlib.sha256(env.blob(model_digest).read_bytes()).hexdigest() == model_digest
    assert not list(partial.parent.glob("*partial*"))
    assert generate_text(env, env.remote()).strip()


def test_cancelled_pull_resumes_from_its_partial_files(env: Env, published):
    env.clear()
    model_digest = _model_digest(published, env)
    size = env.registry.blob_data(model_digest).stat().st_size
    partial = env.blob(model_digest).with_name(env.blob(model_digest).name + "-partial")
    before = env.proxy.downstream
    env.proxy.hold_after(size // 3)
    call = env.models.PullModel(models_pb2.PullModelRequest(model=env.remote(), insecure=True))

    def saved() -> int:
        try:
            return sum(
                json.loads(p.read_bytes())["Completed"] for p in partial.parent.glob(partial.name + "-*")
            )
        except (OSError, ValueError):
            return 0

    try:
        assert env.proxy.holding.wait(30)
        time.sleep(1)  # let the server drain what is already in its socket buffers
        call.cancel()
        had = env.proxy.downstream - before
        # The download stops with its last waiter and saves what it received (all
        # but the HTTP headers the proxy also counted).
        deadline = time.monotonic() + 10
        while saved() < had - (64 << 10) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        env.proxy.release()
    kept = saved()
    assert had - (64 << 10) <= kept < size
    assert not env.blob(model_digest).exists()
    before = env.proxy.downstream
    lines = env.pull(env.remote())
    assert next(x for x in lines if x.digest == model_digest).completed == kept
    assert env.proxy.downstream - before < size - kept + (1 << 20)
    assert "sha256:" + hashlib.sha256(env.blob(model_digest).read_bytes()).hexdigest() == model_digest


def test_two_concurrent_pulls_download_each_blob_once(env: Env, published):
    env.clear()
    mark = len(env.registry.requests())
    for lines in twice_at_once(lambda: env.pull(env.remote())):
        assert lines[-1].status == "success"
    blob_gets = [
        r
        for r in env.registry.requests()[mark:]
        if r["http.request.method"] == "GET" and "/blobs/" in r["http.request.uri"]
    ]
    for d in published:
        size = env.registry.blob_data(d).stat().st_size
        served = sum(int(r["http.response.written"]) for r in blob_gets if d in r["http.request.uri"])
        assert served == size, d


def test_two_concurrent_pushes_upload_each_blob_once(env: Env, published):
    env.pull(env.remote())
    twice = env.remote("twice:latest", namespace="team")
    env.models.CopyModel(models_pb2.CopyModelRequest(source=env.remote(), destination=twice))
    mark = len(env.registry.requests())
    for lines in twice_at_once(lambda: env.push(twice)):
        assert lines[-1].status == "success"
    size = env.registry.blob_data(_model_digest(published, env)).stat().st_size
    patches = [r for r in env.registry.requests()[mark:] if r["http.request.method"] == "PATCH"]
    assert len(patches) == math.ceil(size / PART) + len(published) - 1


def test_push_mounts_a_layer_the_registry_has_in_another_repository(env: Env, published):
    """A model created FROM smollm2 keeps `from` on its weights layer; pushing it to
    another repository mounts the weights instead of uploading them again."""
    derived = env.remote("derived:latest", namespace="team")
    env.pull(env.remote())
    r = list(
        env.models.CreateModel(
            models_pb2.CreateModelRequest(model=derived, system="You are terse.", **{"from": env.remote()})
        )
    )
    assert r[-1].status == "success"
    mark = len(env.registry.requests())
    lines = env.push(derived)
    assert lines[-1].status == "success"
    requests = env.registry.requests()[mark:]
    mounts = [r for r in requests if r["http.request.method"] == "POST" and "mount=" in r["http.request.uri"]]
    assert mounts and all(r["http.response.status"] == "201" for r in mounts)
    model_digest = _model_digest(published, env)
    assert not [
        r
        for r in requests
        if r["http.request.method"] == "PATCH" and model_digest in r.get("http.request.uri", "")
    ]


# --------------------------------------------------------------------- token auth


@pytest.fixture(scope="module")
def token_env(tmp_path_factory) -> Iterator[tuple[Env, TokenServer]]:
    root = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(root / "token")
    try:
        for env in _env(root, tokens):
            yield env, tokens
    finally:
        tokens.stop()


def _round_trip(env: Env) -> None:
    remote = env.remote()
    env.models.CopyModel(models_pb2.CopyModelRequest(source=MODEL, destination=remote))
    assert env.push(remote)[-1].status == "success"
    env.clear()
    lines = env.pull(remote)
    assert lines[-1].status == "success"
    digests = {x.digest for x in lines if x.digest}
    assert len(digests) >= 2
    for d in digests:  # byte-identical: every blob hashes to its digest
        assert "sha256:" + hashlib.sha256(env.blob(d).read_bytes()).hexdigest() == d
    assert generate_text(env, remote).strip()


def _refused(env: Env, expected: str) -> None:
    # The same registry by another host name has no credentials in the auth file.
    other = f"localhost:{env.proxy.port}/library/smollm2:135m"
    with pytest.raises(grpc.RpcError) as e:
        env.pull(other)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert e.value.details() == expected
    env.models.CopyModel(models_pb2.CopyModelRequest(source=env.remote(), destination=other))
    with pytest.raises(grpc.RpcError) as e:
        env.push(other)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_token_auth_push_and_pull(token_env):
    env, tokens = token_env
    _round_trip(env)
    # The registry really demanded tokens, and the token server saw our credentials.
    log = env.registry.log_path.read_text()
    assert "error authorizing context: authorization token required" in log
    assert 'msg="authorized request"' in log
    granted = [r for r in tokens.requests if r["authorization"].startswith("Basic ")]
    # The registry lists a scope's actions in no fixed order ("pull,push" or "push,pull").
    scopes = {
        (kind_name, frozenset(actions.split(",")))
        for r in granted
        for kind_name, _, actions in (s.rpartition(":") for s in r["query"]["scope"])
    }
    assert granted and scopes >= {
        ("repository:library/smollm2", frozenset({"pull", "push"})),
        ("repository:library/smollm2", frozenset({"pull"})),
    }


def test_token_auth_refused_without_credentials(token_env):
    env, _ = token_env
    _refused(
        env,
        'pull model manifest: 401: {"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}',
    )


@pytest.fixture(scope="module")
def basic_env(tmp_path_factory) -> Iterator[Env]:
    yield from _env(tmp_path_factory.mktemp("basic-registry"), basic=("bob", "hunter2"))


def test_basic_auth_push_and_pull(basic_env):
    _round_trip(basic_env)
    assert "authorization token required" not in basic_env.registry.log_path.read_text()


def test_basic_auth_refused_without_credentials(basic_env):
    _refused(basic_env, "pull model manifest: unauthorized: access denied")


# --------------------------------------------------------------------- HTTPS


@pytest.fixture(scope="module")
def tls_env(tmp_path_factory) -> Iterator[Env]:
    yield from _env(tmp_path_factory.mktemp("tls-registry"), tls=True)


def test_https_registry_without_insecure_and_create_pulls_a_missing_base(tls_env):
    """A registry with a certificate the server trusts (SSL_CERT_FILE) needs no
    `insecure`; `create` from a model the store lacks pulls it first, as Ollama does."""
    env = tls_env
    remote = env.remote()
    env.models.CopyModel(models_pb2.CopyModelRequest(source=MODEL, destination=remote))
    lines = list(env.models.PushModel(models_pb2.PushModelRequest(model=remote)))
    assert lines[-1].status == "success"
    env.clear()
    lines = list(
        env.models.CreateModel(
            models_pb2.CreateModelRequest(model="terse", system="Answer in one word.", **{"from": remote})
        )
    )
    statuses = [x.status for x in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses.index("verifying sha256 digest") < statuses.index("success") < len(statuses) - 1
    assert statuses[-1] == "success"
    names = {m.name for m in env.models.ListModels(models_pb2.ListModelsRequest()).models}
    assert names == {"terse:latest", f"{env.proxy.address}/library/smollm2:135m"}
    assert generate_text(env, "terse").strip()
    # Plain HTTP to a TLS registry fails as a transport error, not silently.
    with pytest.raises(grpc.RpcError) as e:
        env.pull(remote)  # insecure=True: http:// against an HTTPS port
    assert e.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)


# --------------------------------------------------------------------- through the shim


@pytest.fixture(scope="module")
def env_shim(env: Env) -> Iterator[str]:
    proc = start_shim(env.server.address)
    yield f"http://{proc.address}"
    proc.stop()


def test_official_client_push_and_pull_with_progress(env: Env, published, env_shim):
    import ollama

    client = ollama.Client(host=env_shim)
    remote = env.remote("smollm2:copy")
    client.copy(env.remote(), remote)
    pushed = list(client.push(remote, insecure=True, stream=True))
    assert pushed[0].status == "retrieving manifest"
    assert pushed[-1].status == "success"
    assert any(p.status.startswith("pushing ") and p.digest and p.total for p in pushed)

    env.clear()
    progress = list(client.pull(remote, insecure=True, stream=True))
    assert progress[0].status == "pulling manifest"
    layers = [p for p in progress if p.status.startswith("pulling ") and p.digest]
    assert layers and all(p.status == f"pulling {p.digest[7:19]}" for p in layers)
    assert [p.status for p in progress[-3:]] == ["verifying sha256 digest", "writing manifest", "success"]
    assert client.pull(remote, insecure=True).status == "success"  # stream=False: the last status
    assert remote in {m.model for m in client.list().models}
    with pytest.raises(ollama.ResponseError) as e:
        client.pull(env.remote("missing:latest"), insecure=True)
    assert e.value.error == "pull model manifest: file does not exist"


def test_pull_deadline_from_the_shims_configuration_stops_the_download(env: Env, published):
    import httpx

    env.clear()
    snap = store_snapshot(env.models_dir)
    model_digest = _model_digest(published, env)
    size = env.registry.blob_data(model_digest).stat().st_size
    shim = start_shim(env.server.address, TOKENWIRE_DEADLINE_PULL="2")
    env.proxy.hold_after(size // 4)
    try:
        r = httpx.post(
            f"http://{shim.address}/api/pull",
            json={"model": env.remote(), "insecure": True, "stream": False},
            timeout=60,
        )
        assert (r.status_code, r.json()) == (504, {"error": "Deadline Exceeded"})
    finally:
        env.proxy.release()
        shim.stop()
    # Nothing but partial files was added, and the next pull resumes from them.
    added = set(store_snapshot(env.models_dir)) - set(snap)
    assert added and all("-partial" in p for p in added)
    assert env.pull(env.remote())[-1].status == "success"


def test_pull_and_push_routes_answer_ollamas_errors(env_shim):
    import httpx

    with httpx.Client(base_url=env_shim, timeout=30) as c:
        assert (c.post("/api/pull").status_code, c.post("/api/pull").json()) == (
            400,
            {"error": "missing request body"},
        )
        r = c.post("/api/pull", json={"model": ""})
        assert (r.status_code, r.json()) == (400, {"error": "invalid model name"})
        r = c.post("/api/push", json={"model": ""})
        assert (r.status_code, r.json()) == (400, {"error": "model is required"})
        r = c.post("/api/pull", json={"model": "x", "insecure": 1})
        assert r.status_code == 400 and "PullRequest.insecure of type bool" in r.json()["error"]
        assert c.get("/api/pull").status_code == 405
        assert c.get("/api/push").status_code == 405
        # Past the first line, an error is the stream's last line in a 200 response.
        r = c.post("/api/pull", json={"model": "127.0.0.1:9/library/x", "insecure": True})
        lines = [json.loads(x) for x in r.text.splitlines()]
        assert r.status_code == 200 and lines[0] == {"status": "pulling manifest"}
        assert lines[-1]["error"].startswith(
            'pull model manifest: Get "http://127.0.0.1:9/v2/library/x/manifests/latest"'
        )

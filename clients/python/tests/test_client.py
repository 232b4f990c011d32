"""tokenwire_client's own behaviour, live: leaving streams, task cancellation, typed
errors, retries, the address from the environment, TLS and credentials."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
import pytest

import tokenwire_client as tw
from server.auth import main as auth_main
from tests.procs import Proc, start_server
from tests.registry import make_tls
from tokenwire.v1 import inference_pb2_grpc, models_pb2, models_pb2_grpc

MODEL = "smollm2:135m"
# Greedy counting runs for minutes without an end-of-generation token (sampled prose
# can end within a second), so only a stopped stream frees its slot sooner.
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"
LONG = {"num_predict": 100000, "temperature": 0}
SHORT = {"num_predict": 4}


def test_breaking_out_of_a_stream_stops_the_engine(conformance_server: Proc) -> None:
    """The server has one slot: the next request finishes within its deadline only if
    the abandoned stream's slot was freed."""
    client = tw.Client(host=conformance_server.address)
    for n, _ in enumerate(client.generate(MODEL, COUNTING, raw=True, stream=True, options=LONG)):
        if n == 2:
            break
    assert client.generate(MODEL, "Say yes.", options=SHORT, timeout=30).done
    with client.generate(MODEL, COUNTING, raw=True, stream=True, options=LONG) as stream:
        next(stream)
    assert client.generate(MODEL, "Say yes.", options=SHORT, timeout=30).done


def test_async_streams_cancel_on_break_and_on_task_cancel(conformance_server: Proc) -> None:
    async def main() -> None:
        async with tw.AsyncClient(host=conformance_server.address) as client:
            async for part in await client.chat(
                MODEL, [{"role": "user", "content": "Tell a long story."}], stream=True, options=LONG
            ):
                assert part.message.role == "assistant"
                break
            assert (await client.generate(MODEL, "Say yes.", options=SHORT, timeout=30)).done

            started = asyncio.Event()

            async def reader() -> None:
                async for _ in await client.generate(MODEL, COUNTING, raw=True, stream=True, options=LONG):
                    started.set()

            task = asyncio.create_task(reader())
            await asyncio.wait_for(started.wait(), 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            answer = await client.generate(MODEL, "Say yes.", options=SHORT, timeout=30)
            assert answer.done and answer.eval_count <= 4
            assert (await client.embed(MODEL, "x")).embeddings[0]

    asyncio.run(main())


def test_a_full_queue_is_a_queue_full_error(tmp_path: Path) -> None:
    server = start_server(tmp_path, OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1")
    try:
        client = tw.Client(host=server.address)
        running = client.generate(MODEL, COUNTING, raw=True, stream=True, options=LONG)
        next(running)  # holds the one slot
        queued = client.generate(MODEL, COUNTING, raw=True, stream=True, options=LONG)
        refused: tw.ResponseError | None = None
        for _ in range(20):  # until the second stream has reached the queue
            try:
                client.generate(MODEL, "hi", options=SHORT, timeout=2)
            except tw.QueueFullError as e:
                refused = e
                break
            except tw.DeadlineExceededError:
                continue
        assert refused is not None and isinstance(refused, tw.ResponseError)
        assert (refused.status_code, refused.code) == (503, grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert refused.error == "server busy, please try again.  maximum pending requests exceeded"
        running.close()
        queued.close()
    finally:
        server.stop()


def test_errors_are_typed_with_ollamas_words(conformance_server: Proc) -> None:
    client = tw.Client(host=conformance_server.address)
    with pytest.raises(tw.NotFoundError) as missing:
        client.show("nope")
    assert (missing.value.error, missing.value.status_code) == ("model 'nope:latest' not found", 404)
    assert isinstance(missing.value, tw.ResponseError)
    with pytest.raises(tw.InvalidArgumentError) as bad:
        client.generate(MODEL, "hi", raw=True, template="{{ .Prompt }}")
    assert bad.value.code == grpc.StatusCode.INVALID_ARGUMENT and bad.value.status_code == 400
    with pytest.raises(tw.RequestError, match='unknown unit "x" in duration "5x"'):
        client.generate(MODEL, "hi", keep_alive="5x")
    nobody = tw.Client(host="127.0.0.1:1", timeout=5)
    with pytest.raises(ConnectionError):  # what ollama-python raises when nothing answers
        nobody.list()


class _Flaky(models_pb2_grpc.VersionServiceServicer, inference_pb2_grpc.InferenceServiceServicer):
    """A stub gRPC server that answers UNAVAILABLE first: to count the client's attempts."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = {"GetVersion": 0, "Generate": 0}

    def GetVersion(self, request, context):
        self.calls["GetVersion"] += 1
        if self.calls["GetVersion"] <= self.failures:
            context.abort(grpc.StatusCode.UNAVAILABLE, "draining")
        return models_pb2.GetVersionResponse(version="9.9.9")

    def Generate(self, request, context):
        self.calls["Generate"] += 1
        context.abort(grpc.StatusCode.UNAVAILABLE, "draining")


def test_unavailable_is_retried_for_idempotent_rpcs_only() -> None:
    flaky = _Flaky(failures=2)
    server = grpc.server(futures.ThreadPoolExecutor(4))
    models_pb2_grpc.add_VersionServiceServicer_to_server(flaky, server)
    inference_pb2_grpc.add_InferenceServiceServicer_to_server(flaky, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = tw.Client(host=f"127.0.0.1:{port}", timeout=30)
        assert client.version().version == "9.9.9"
        assert flaky.calls["GetVersion"] == 3  # two refusals, then the answer
        with pytest.raises(tw.UnavailableError):
            client.generate(MODEL, "hi")
        assert flaky.calls["Generate"] == 1  # a generation is never sent twice
    finally:
        server.stop(None)


def test_the_address_comes_from_tokenwire_grpc_addr(conformance_server: Proc) -> None:
    script = (
        "import tokenwire_client as ollama; print(ollama.version().version, ollama.list().models[0].model)"
    )
    env = {"TOKENWIRE_GRPC_ADDR": conformance_server.address, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.33.0", MODEL]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("client-tls")
    make_tls(root / "tls")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        auth_main(["add", "client", "--file", str(root / "keys")])
    tls = root / "tls"
    server = start_server(
        root / "models",
        TOKENWIRE_API_KEYS=str(root / "keys"),
        TOKENWIRE_TLS_CERT=str(tls / "cert.pem"),
        TOKENWIRE_TLS_KEY=str(tls / "key.pem"),
        TOKENWIRE_TLS_CLIENT_CA=str(tls / "ca.pem"),
    )
    yield server, tls, buf.getvalue().strip()
    server.stop()


def test_mutual_tls_with_an_api_key_as_call_credentials(secured) -> None:
    server, tls, key = secured
    certs = {
        "root_certificates": (tls / "ca.pem").read_bytes(),
        "private_key": (tls / "client-key.pem").read_bytes(),
        "certificate_chain": (tls / "client.pem").read_bytes(),
    }
    with tw.Client(
        host=server.address, call_credentials=grpc.access_token_call_credentials(key), **certs
    ) as c:
        parts = list(c.generate(MODEL, "Hi", stream=True, options=SHORT))
        assert parts[-1].done and MODEL in [m.model for m in c.list().models]
    with tw.Client(host=server.address, headers={"Authorization": f"Bearer {key}"}, **certs) as c:
        assert c.version().version
    with tw.Client(host=server.address, **certs) as c, pytest.raises(tw.UnauthenticatedError) as e:
        c.list()
    assert e.value.status_code == 401
    with tw.Client(host=server.address, root_certificates=certs["root_certificates"], timeout=10) as c:
        with pytest.raises(tw.UnavailableError):  # no client certificate: the handshake fails
            c.version()

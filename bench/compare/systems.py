"""The systems compared, each started on loopback with the same GGUF, threads and slots,
and one way to stream a greedy completion from each. Every stream returns the same
record: time to the first token, tokens generated, the time of the last, and the text
(to check that all systems produced the same tokens)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx

from tests.procs import ROOT, Proc, rest_address, start_server, start_shim
from tests.registry import free_port


@dataclass
class Stream:
    ttft_s: float
    tokens: int
    total_s: float
    text: str

    @property
    def per_stream_tok_s(self) -> float:
        """Decode speed one user sees: tokens after the first over the time they took."""
        decode = self.total_s - self.ttft_s
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else 0.0


@dataclass
class Setup:
    gguf: Path
    model: str  # the name tokenwire (and an --extra Ollama server) know the GGUF by
    threads: int
    slots: int
    ctx_per_slot: int
    tokenwire_env: dict[str, str] = field(default_factory=dict)  # --tokenwire-env, to try settings


@dataclass
class System:
    name: str
    stream: Callable[[str, int], Stream]
    pids: list[int]
    stop: Callable[[], None]
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for c in self.closers:
            c()
        self.stop()


def _timed(t0: float, events, text_of: Callable[[Any], str], count_of: Callable[[Any], int | None]) -> Stream:
    """Read a stream of events sent at t0 (before the request, which may wait for the first
    token before it answers): text_of gives an event's text (the first text is the first
    token), count_of the token count a final event reports (else texts are counted)."""
    first, pieces, reported = None, [], None
    for event in events:
        if piece := text_of(event):
            if first is None:
                first = time.perf_counter() - t0
            pieces.append(piece)
        reported = count_of(event) or reported
    return Stream(first or 0.0, reported or len(pieces), time.perf_counter() - t0, "".join(pieces))


def _sse(response: httpx.Response):
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line[6:])


def _options(n: int) -> dict:
    return {"temperature": 0, "num_predict": n}


# --- tokenwire ---------------------------------------------------------------------------

INPROCESS = "tokenwire REST in-process"


def _server(setup: Setup, root: Path, **env: str) -> Proc:
    """A tokenwire server with the setup's threads and slots, the GGUF created in its
    store under setup.model."""
    root.mkdir(parents=True, exist_ok=True)
    server = start_server(
        root / "models",
        TOKENWIRE_NUM_THREADS=str(setup.threads),
        OLLAMA_NUM_PARALLEL=str(setup.slots),
        OLLAMA_CONTEXT_LENGTH=str(setup.ctx_per_slot),
        OLLAMA_KEEP_ALIVE="-1",
        **env,
    )
    modelfile = root / "Modelfile"
    modelfile.write_text(f"FROM {setup.gguf}\n")
    cli = Path(sys.executable).parent / "tokenwire"
    cli_env = {**os.environ, "TOKENWIRE_GRPC_ADDR": server.address}
    subprocess.run([str(cli), "create", setup.model, "-f", str(modelfile)], env=cli_env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return server


def tokenwire(setup: Setup, root: Path) -> tuple[Proc, Proc]:
    """The server and the shim process in front of it, joined over a Unix socket as
    `make serve` joins them with TOKENWIRE_REST_INPROCESS=false (`--tokenwire-env
    TOKENWIRE_GRPC_SOCKET=` measures loopback TCP instead)."""
    server_env = {"TOKENWIRE_GRPC_SOCKET": str(root / "grpc.sock"), **setup.tokenwire_env}
    server = _server(setup, root, **server_env)
    socket = server_env["TOKENWIRE_GRPC_SOCKET"]
    return server, start_shim(f"unix:{socket}" if socket else server.address)


def tokenwire_inprocess(setup: Setup, root: Path) -> Proc:
    """A server serving REST itself (TOKENWIRE_REST_INPROCESS), as `make serve` runs it."""
    env = {"TOKENWIRE_REST_INPROCESS": "1", "OLLAMA_HOST": "127.0.0.1:0", **setup.tokenwire_env}
    return _server(setup, root, **env)


def tokenwire_rest(setup: Setup, server: Proc, shim: Proc) -> System:
    client = httpx.Client(base_url=f"http://{shim.address}", timeout=600, limits=httpx.Limits())
    stream = _ollama_stream(client, setup.model)
    return System("tokenwire REST", stream, [server.proc.pid, shim.proc.pid], lambda: None, [client.close])


def tokenwire_rest_inprocess(setup: Setup, root: Path) -> System:
    """REST from a server of its own that serves it itself, as `make serve` runs it."""
    server = tokenwire_inprocess(setup, root)
    client = httpx.Client(base_url=f"http://{rest_address(server)}", timeout=600, limits=httpx.Limits())
    stream = _ollama_stream(client, setup.model)
    return System(INPROCESS, stream, [server.proc.pid], server.stop, [client.close])


def _ollama_stream(client: httpx.Client, model: str) -> Callable[[str, int], Stream]:
    """Ollama's /api/generate, raw (the prompt is already templated), as NDJSON."""

    def stream(prompt: str, n: int) -> Stream:
        t0 = time.perf_counter()
        body = {"model": model, "prompt": prompt, "raw": True, "options": _options(n)}
        with client.stream("POST", "/api/generate", json=body) as r:
            r.raise_for_status()
            events = (json.loads(line) for line in r.iter_lines())
            return _timed(t0, events, lambda e: e.get("response", ""), lambda e: e.get("eval_count"))

    return stream


def tokenwire_grpc(setup: Setup, server: Proc) -> System:
    from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

    channel = grpc.insecure_channel(server.address)
    stub = inference_pb2_grpc.InferenceServiceStub(channel)

    def stream(prompt: str, n: int) -> Stream:
        t0 = time.perf_counter()
        request = inference_pb2.GenerateRequest(
            model=setup.model, prompt=prompt, raw=True, options=types_pb2.Options(**_options(n))
        )
        return _timed(t0, stub.Generate(request), lambda c: c.response, lambda c: c.eval_count)

    return System("tokenwire gRPC", stream, [server.proc.pid], lambda: None, [channel.close])


def tokenwire_client(setup: Setup, server: Proc) -> System:
    import tokenwire_client as tw

    client = tw.Client(host=server.address)

    def stream(prompt: str, n: int) -> Stream:
        t0 = time.perf_counter()
        parts = client.generate(model=setup.model, prompt=prompt, raw=True, options=_options(n), stream=True)
        return _timed(t0, parts, lambda p: p.response, lambda p: p.eval_count)

    return System("tokenwire_client", stream, [server.proc.pid], lambda: None, [client.close])


# --- llama.cpp's servers -----------------------------------------------------------------


def http_server(argv: list[str], port_flag: str) -> tuple[subprocess.Popen, str]:
    """Start an HTTP server on a free loopback port and wait until /v1/models answers."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([*argv, port_flag, str(port)], stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{argv[0]} exited:\n{log.read().decode(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{argv[0]} did not start")


def stopper(proc: subprocess.Popen) -> Callable[[], None]:
    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()

    return stop


def start_llama_server(setup: Setup, binary: Path) -> tuple[subprocess.Popen, str]:
    """llama-server as Ollama runs it underneath, with the setup's threads and slots (continuous
    batching over them), up and answering; its process and URL."""
    return http_server(
        [str(binary), "-m", str(setup.gguf), "-t", str(setup.threads), "-tb", str(setup.threads),
         "-np", str(setup.slots), "-c", str(setup.slots * setup.ctx_per_slot), "--host", "127.0.0.1",
         "--no-webui"],
        "--port",
    )  # fmt: skip


def llama_server(setup: Setup, binary: Path) -> System:
    proc, url = start_llama_server(setup, binary)
    client = httpx.Client(base_url=url, timeout=600, limits=httpx.Limits())

    def stream(prompt: str, n: int) -> Stream:
        t0 = time.perf_counter()
        body = {"prompt": prompt, "n_predict": n, "temperature": 0, "stream": True, "cache_prompt": True}
        # cpp-httplib closes a kept-alive connection after 5 requests or 5 idle seconds;
        # a request that meets a closed one never reached the server, so send it again.
        for attempt in range(2):
            try:
                with client.stream("POST", "/completion", json=body) as r:
                    r.raise_for_status()
                    return _timed(
                        t0, _sse(r), lambda e: e.get("content", ""), lambda e: e.get("tokens_predicted")
                    )
            except httpx.RemoteProtocolError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    return System("llama-server", stream, [proc.pid], stopper(proc), [client.close])


def llama_cpp_python_server(setup: Setup) -> System:
    """llama-cpp-python's own OpenAI server: one request at a time (it holds a lock)."""
    proc, url = http_server(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(setup.gguf),
         "--n_threads", str(setup.threads), "--n_threads_batch", str(setup.threads),
         "--n_ctx", str(setup.ctx_per_slot), "--host", "127.0.0.1",
         # Flash attention is off by default there (llama-server's auto and ours turn it on),
         # and a new request interrupts the one streaming: queue them instead.
         "--flash_attn", "true", "--interrupt_requests", "false"],
        "--port",
    )  # fmt: skip
    client = httpx.Client(base_url=url, timeout=600, limits=httpx.Limits())

    def stream(prompt: str, n: int) -> Stream:
        t0 = time.perf_counter()
        # Its default repeat_penalty is 1.1 (llama-server's and ours: 1.0, off).
        body = {"prompt": prompt, "max_tokens": n, "temperature": 0, "repeat_penalty": 1.0, "stream": True}
        with client.stream("POST", "/v1/completions", json=body) as r:
            r.raise_for_status()
            # Its stream has no usage: one chunk is one token.
            return _timed(t0, _sse(r), lambda e: e["choices"][0]["text"], lambda e: None)

    return System("llama-cpp-python server", stream, [proc.pid], stopper(proc), [client.close])


def ollama_compatible(name: str, url: str, setup: Setup) -> System:
    """Another Ollama-compatible server, given by URL (--extra NAME=URL); not started here."""
    client = httpx.Client(base_url=url, timeout=600, limits=httpx.Limits())
    return System(name, _ollama_stream(client, setup.model), [], lambda: None, [client.close])


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of the processes, summed (VmRSS from /proc)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total

"""bench/first_token: what the first token costs beyond the prompt's evaluation, over
llama-server's HTTP, tokenwire's gRPC and tokenwire's REST shim, interleaved.

    python -m bench.first_token [--reps 60] [--threads 2]

One prompt sent again and again with one slot each, so every system keeps it cached and
evaluates only its last token again: what is left of the time to the first token is the
path a request and its first token take through each server. Each system gets a burst of
requests back to back per repetition, the first not counted, as in bench/compare's
cells (between two requests of an idle server llama.cpp's threads go to sleep, and its
first decode then took 20 ms instead of 13). Each request is timed by its
client (send to the first token's text) and by the system itself (our
`prompt_eval_duration`, llama-server's `timings.prompt_ms`); "beyond prefill" is the
first less the second. Medians over the repetitions, in an order rotated per repetition.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx

from bench.compare.build import llama_server
from bench.compare.systems import Setup, start_llama_server, stopper, tokenwire, tokenwire_inprocess
from bench.engine import chatml
from server.bootstrap import SMOLLM2, cached_path
from server.settings import Settings
from tests.procs import rest_address
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

PROMPT = chatml("Name a colour.")
TOKENS = 2  # the first token and one more: the stream's first line is timed, not its end

Timed = tuple[float, float]  # (client's time to the first token, the system's prompt time), s


def _llama(http: httpx.Client) -> Timed:
    # cpp-httplib closes a kept-alive connection after 5 requests: send such a one again.
    try:
        return _llama_once(http)
    except httpx.RemoteProtocolError:
        return _llama_once(http)


def _llama_once(http: httpx.Client) -> Timed:
    body = {"prompt": PROMPT, "n_predict": TOKENS, "temperature": 0, "stream": True, "cache_prompt": True}
    t0, first, prompt_s = time.perf_counter(), None, 0.0
    with http.stream("POST", "/completion", json=body) as r:
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event.get("content") and first is None:
                first = time.perf_counter() - t0
            if "timings" in event:
                prompt_s = event["timings"]["prompt_ms"] / 1e3
    return first or 0.0, prompt_s


def _rest(http: httpx.Client, model: str) -> Timed:
    options = {"temperature": 0, "num_predict": TOKENS}
    body = {"model": model, "prompt": PROMPT, "raw": True, "options": options}
    t0, first, last = time.perf_counter(), None, {}
    with http.stream("POST", "/api/generate", json=body) as r:
        for line in r.iter_lines():
            last = json.loads(line)
            if last.get("response") and first is None:
                first = time.perf_counter() - t0
    return first or 0.0, last.get("prompt_eval_duration", 0) / 1e9


def _grpc(stub: inference_pb2_grpc.InferenceServiceStub, model: str) -> Timed:
    options = types_pb2.Options(temperature=0, num_predict=TOKENS)
    request = inference_pb2.GenerateRequest(model=model, prompt=PROMPT, raw=True, options=options)
    t0, first, last = time.perf_counter(), None, None
    for chunk in stub.Generate(request):
        if chunk.response and first is None:
            first = time.perf_counter() - t0
        last = chunk
    return first or 0.0, (last.prompt_eval_duration if last else 0) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--burst", type=int, default=4,
                    help="requests back to back per system and repetition; the first of each "
                         "burst is not counted (an idle server's llama.cpp threads sleep)")  # fmt: skip
    ap.add_argument("--gap", type=float, default=0.0, help="ms to wait between the requests of a burst")
    args = ap.parse_args()
    gguf = cached_path(Settings.from_env().cache_dir, SMOLLM2)
    setup = Setup(gguf, "bench", args.threads, 1, 2048)
    proc, url = start_llama_server(setup, llama_server())
    tmp = tempfile.TemporaryDirectory()
    server, shim = tokenwire(setup, Path(tmp.name) / "pair")
    inprocess = tokenwire_inprocess(setup, Path(tmp.name) / "one")
    one_http = httpx.Client(base_url=f"http://{rest_address(inprocess)}", timeout=600)
    ls_http = httpx.Client(base_url=url, timeout=600)
    shim_http = httpx.Client(base_url=f"http://{shim.address}", timeout=600)
    channel = grpc.insecure_channel(server.address)
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    sides: dict[str, Callable[[], Timed]] = {
        "llama-server": lambda: _llama(ls_http),
        "tokenwire gRPC": lambda: _grpc(stub, setup.model),
        "tokenwire REST": lambda: _rest(shim_http, setup.model),
        "tokenwire REST in-process": lambda: _rest(one_http, setup.model),
    }
    names = list(sides)
    got: dict[str, list[Timed]] = {n: [] for n in names}
    try:
        for n in names:  # warm each: the prompt cached, connections open
            sides[n](), sides[n]()
        for rep in range(args.reps):
            for k in range(len(names)):
                name = names[(rep + k) % len(names)]
                burst = []
                for _ in range(args.burst):
                    time.sleep(args.gap / 1e3)
                    burst.append(sides[name]())
                got[name].extend(burst[1:] if len(burst) > 1 else burst)
    finally:
        channel.close()
        ls_http.close()
        shim_http.close()
        one_http.close()
        inprocess.stop()
        shim.stop()
        server.stop()
        stopper(proc)()
        tmp.cleanup()

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1e3:.2f}"

    print(f"bench/first_token: SmolLM2 Q4_1, the same prompt again, {TOKENS} tokens, {args.threads} threads, "
          f"medians of {args.reps} x {max(args.burst - 1, 1)} (ms)")  # fmt: skip
    print("| system | TTFT | its prompt time | beyond prefill |")
    print("|---|---|---|---|")
    for n in names:
        ttft, prompt = [t for t, _ in got[n]], [p for _, p in got[n]]
        print(f"| {n} | {ms(ttft)} | {ms(prompt)} | {ms([t - p for t, p in got[n]])} |")


if __name__ == "__main__":
    main()

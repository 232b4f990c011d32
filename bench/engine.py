"""bench/engine: aggregate decode throughput through gRPC and through the shim, next to
the plain llama.cpp batched loop (bench/baseline.py) run in this same process.

    python -m bench.engine [--streams 1,2,4,8] [--tokens 128]

Prints one table; ratios are against the plain loop at the same number of streams and
against our own single stream. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import grpc
import httpx

from bench.baseline import plain_batched_loop
from server.bootstrap import SMOLLM2, cached_path
from server.settings import Settings
from tests.procs import start_server, start_shim
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

TOPICS = [
    "the sky",
    "the sea",
    "volcanoes",
    "bread",
    "trains",
    "bees",
    "glaciers",
    "chess",
    "rain",
    "owls",
    "copper",
    "tides",
    "maps",
    "clocks",
    "salt",
    "wind",
]


def prompts(n: int) -> list[str]:
    return [f"Write a long essay about {TOPICS[i % len(TOPICS)]}." for i in range(n)]


def chatml(p: str) -> str:
    return f"<|im_start|>user\n{p}<|im_end|>\n<|im_start|>assistant\n"


def _run_concurrent(fn, items) -> tuple[float, list]:
    results: list = [None] * len(items)
    barrier = threading.Barrier(len(items))

    def worker(i, item):
        barrier.wait()
        results[i] = fn(item)

    threads = [threading.Thread(target=worker, args=(i, it)) for i, it in enumerate(items)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def via_grpc(address: str, ps: list[str], n_predict: int) -> dict:
    with grpc.insecure_channel(address) as ch:
        stub = inference_pb2_grpc.InferenceServiceStub(ch)

        def one(p):
            t0 = time.perf_counter()
            first = None
            final = None
            for c in stub.Generate(
                inference_pb2.GenerateRequest(
                    model=SMOLLM2.name,
                    prompt=p,
                    raw=True,
                    options=types_pb2.Options(temperature=0, num_predict=n_predict, stop=["\x00never"]),
                )
            ):
                if first is None:
                    first = time.perf_counter() - t0
                final = c
            return first, final.eval_count, final.eval_duration

        wall, res = _run_concurrent(one, [chatml(p) for p in ps])
    return _summary(wall, res)


def via_shim(url: str, ps: list[str], n_predict: int) -> dict:
    def one(p):
        t0 = time.perf_counter()
        first = None
        final = None
        with (
            httpx.Client(base_url=url, timeout=600) as c,
            c.stream(
                "POST",
                "/api/generate",
                json={
                    "model": SMOLLM2.name,
                    "prompt": p,
                    "raw": True,
                    "options": {"temperature": 0, "num_predict": n_predict, "stop": ["\x00never"]},
                },
            ) as r,
        ):
            for line in r.iter_lines():
                if first is None:
                    first = time.perf_counter() - t0
                final = json.loads(line)
        return first, final["eval_count"], final["eval_duration"]

    wall, res = _run_concurrent(one, [chatml(p) for p in ps])
    return _summary(wall, res)


def _summary(wall: float, res: list) -> dict:
    tokens = sum(r[1] for r in res)
    return {"tokens": tokens, "tok_s": tokens / wall, "ttft_ms": statistics.median(r[0] for r in res) * 1000}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", default="", help="TOKENWIRE_NUM_THREADS for the server (default: all cores)")
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",")]
    gguf = cached_path(Settings.from_env().cache_dir, SMOLLM2)

    base = {n: plain_batched_loop(gguf, [chatml(p) for p in prompts(n)], args.tokens) for n in counts}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TOKENWIRE_NUM_THREADS": args.threads} if args.threads else {}
        server = start_server(Path(tmp), OLLAMA_NUM_PARALLEL=str(max(counts)), **env)
        shim = start_shim(server.address)
        try:
            via_grpc(server.address, prompts(1), 8)  # load the model before timing
            for n in counts:
                g = via_grpc(server.address, prompts(n), args.tokens)
                s = via_shim(f"http://{shim.address}", prompts(n), args.tokens)
                rows.append((n, base[n], g, s))
        finally:
            shim.stop()
            server.stop()

    single_shim = rows[0][3]["tok_s"]
    print(f"bench/engine: SmolLM2-135M Q4_1, {args.tokens} greedy tokens per stream, aggregate tok/s")
    print(
        "| streams | plain loop | gRPC | shim | gRPC/plain | shim/plain | shim/gRPC "
        "| shim vs 1 stream | TTFT shim ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, b, g, s in rows:
        plain = b["total_tok_s"]
        print(
            f"| {n} | {plain:.1f} | {g['tok_s']:.1f} | {s['tok_s']:.1f} | {g['tok_s'] / plain:.2f} "
            f"| {s['tok_s'] / plain:.2f} | {s['tok_s'] / g['tok_s']:.2f} | {s['tok_s'] / single_shim:.2f} "
            f"| {s['ttft_ms']:.0f} |"
        )


if __name__ == "__main__":
    main()

"""bench/engine: aggregate decode throughput through gRPC and through the shim, next to
the plain llama.cpp batched loop (bench/baseline.py) run in this same process; time to
first token; the second chat turn's prefill with and without prefix reuse; and
llama_decode timed alone by batch size, which bounds what batching can give here.

    python -m bench.engine [--streams 1,2,4,8] [--tokens 128] [--reps 3]

This machine's speed drifts by 10-20% between runs, so every cell is measured --reps
times, plain loop, gRPC and shim interleaved, and the median is shown. Ratios are
against the plain loop at the same number of streams and against our own single
stream. Not a test: nothing here asserts a speed.
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

from bench.baseline import decode_step_ms, plain_batched_loop
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


def _options(n_predict: int) -> dict:
    # A stop string that never matches keeps the stop matcher on the hot path.
    return {"temperature": 0, "num_predict": n_predict, "stop": ["\x00never"]}


def via_grpc(stub, ps: list[str], n_predict: int) -> dict:
    def one(p):
        t0 = time.perf_counter()
        first = final = None
        request = inference_pb2.GenerateRequest(
            model=SMOLLM2.name, prompt=p, raw=True, options=types_pb2.Options(**_options(n_predict))
        )
        for c in stub.Generate(request):
            if first is None:
                first = time.perf_counter() - t0
            final = c
        return first, final.eval_count

    wall, res = _run_concurrent(one, [chatml(p) for p in ps])
    return _summary(wall, res)


def via_shim(client: httpx.Client, ps: list[str], n_predict: int) -> dict:
    def one(p):
        t0 = time.perf_counter()
        first = final = None
        body = {"model": SMOLLM2.name, "prompt": p, "raw": True, "options": _options(n_predict)}
        with client.stream("POST", "/api/generate", json=body) as r:
            for line in r.iter_lines():
                if first is None:
                    first = time.perf_counter() - t0
                final = json.loads(line)
        return first, final["eval_count"]

    wall, res = _run_concurrent(one, [chatml(p) for p in ps])
    return _summary(wall, res)


def _summary(wall: float, res: list) -> dict:
    tokens = sum(r[1] for r in res)
    return {"tok_s": tokens / wall, "ttft_ms": statistics.median(r[0] for r in res) * 1000}


def throughput(counts: list[int], n_tokens: int, reps: int, gguf: Path, threads: str) -> list[tuple]:
    cells: dict[tuple[int, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TOKENWIRE_NUM_THREADS": threads} if threads else {}
        server = start_server(Path(tmp), OLLAMA_NUM_PARALLEL=str(max(counts)), **env)
        shim = start_shim(server.address)
        try:
            with (
                grpc.insecure_channel(server.address) as ch,
                httpx.Client(base_url=f"http://{shim.address}", timeout=600, limits=httpx.Limits()) as client,
            ):
                stub = inference_pb2_grpc.InferenceServiceStub(ch)
                via_grpc(stub, prompts(1), 8)  # load the model before timing
                for _ in range(reps):
                    for n in counts:
                        plain = plain_batched_loop(gguf, [chatml(p) for p in prompts(n)], n_tokens)
                        cells.setdefault((n, "plain"), []).append({"tok_s": plain["total_tok_s"]})
                        cells.setdefault((n, "grpc"), []).append(via_grpc(stub, prompts(n), n_tokens))
                        cells.setdefault((n, "shim"), []).append(via_shim(client, prompts(n), n_tokens))
        finally:
            shim.stop()
            server.stop()

    def med(n: int, kind: str, key: str = "tok_s") -> float:
        return statistics.median(c[key] for c in cells[(n, kind)])

    return [(n, med(n, "plain"), med(n, "grpc"), med(n, "shim"), med(n, "shim", "ttft_ms")) for n in counts]


def match_rate(counts: list[int], n_tokens: int = 64) -> dict[int, tuple[int, int]]:
    """How many greedy outputs decoded in a shared batch equal the same request alone.

    Batched matrix products may round differently from single ones, so a sequence can
    drift from its solo output after a near-tie; this measures how often that happens.
    """
    out: dict[int, tuple[int, int]] = {}
    if not counts:  # --streams 1: nothing is batched, nothing to compare
        return out
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), OLLAMA_NUM_PARALLEL=str(max(counts)))
        try:
            with grpc.insecure_channel(server.address) as ch:
                stub = inference_pb2_grpc.InferenceServiceStub(ch)

                def text(p: str) -> str:
                    req = inference_pb2.GenerateRequest(
                        model=SMOLLM2.name,
                        prompt=p,
                        options=types_pb2.Options(temperature=0, num_predict=n_tokens),
                    )
                    return "".join(c.response for c in stub.Generate(req))

                for n in counts:
                    ps = [f"Tell me a story about {TOPICS[i % 16]}." for i in range(n)]
                    alone = [text(p) for p in ps]
                    _, together = _run_concurrent(text, ps)
                    out[n] = (sum(a == b for a, b in zip(alone, together, strict=True)), n)
        finally:
            server.stop()
    return out


SYSTEM = " ".join(
    f"Rule {i}: answer politely, briefly and with care about {TOPICS[i % 16]}." for i in range(60)
)


def second_turn(reps: int) -> dict:
    """Prefill of a second chat turn after a long first one: reused prefix vs cold."""
    out: dict[str, list] = {"reuse": [], "cold": []}
    greedy = types_pb2.Options(temperature=0, num_predict=24)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), OLLAMA_NUM_PARALLEL="1")
        try:
            with grpc.insecure_channel(server.address) as ch:
                stub = inference_pb2_grpc.InferenceServiceStub(ch)

                def chat(messages) -> tuple[inference_pb2.ChatResponse, float]:
                    t0 = time.perf_counter()
                    first = None
                    req = inference_pb2.ChatRequest(model=SMOLLM2.name, messages=messages, options=greedy)
                    for c in stub.Chat(req):
                        first = first or time.perf_counter() - t0
                        last = c
                    return last, first

                for rep in range(reps):
                    turn1 = [
                        types_pb2.Message(role="system", content=SYSTEM),
                        types_pb2.Message(role="user", content=f"Tell me about {TOPICS[rep]}."),
                    ]
                    answer = "".join(
                        c.message.content
                        for c in stub.Chat(
                            inference_pb2.ChatRequest(model=SMOLLM2.name, messages=turn1, options=greedy)
                        )
                    )
                    turn2 = [*turn1, types_pb2.Message(role="assistant", content=answer)]
                    turn2.append(types_pb2.Message(role="user", content="And why?"))
                    final, ttft = chat(turn2)
                    # Tokens evaluated: the whole prompt less what the prefix cache served.
                    evaluated = final.prompt_eval_count - final.prompt_cached_count
                    out["reuse"].append((evaluated, final.prompt_eval_duration / 1e6, ttft * 1000))
                    # Another conversation takes the only slot; the same second turn is now cold.
                    chat([types_pb2.Message(role="user", content="Unrelated question about salt.")])
                    final, ttft = chat(turn2)
                    evaluated = final.prompt_eval_count - final.prompt_cached_count
                    out["cold"].append((evaluated, final.prompt_eval_duration / 1e6, ttft * 1000))
        finally:
            server.stop()
    return {k: tuple(statistics.median(x[i] for x in v) for i in range(3)) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,2,4,8")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="", help="TOKENWIRE_NUM_THREADS for the server (default: all cores)")
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",")]
    gguf = cached_path(Settings.from_env().cache_dir, SMOLLM2)
    rows = throughput(counts, args.tokens, args.reps, gguf, args.threads)
    turns = second_turn(args.reps)
    matches = match_rate([c for c in counts if c > 1])
    steps = decode_step_ms(gguf, counts)

    single_shim, single_plain = rows[0][3], rows[0][1]
    print(
        f"bench/engine: SmolLM2-135M Q4_1, {args.tokens} greedy tokens per stream, "
        f"aggregate tok/s, median of {args.reps}"
    )
    print(
        "| streams | plain loop | gRPC | shim | gRPC/plain | shim/plain | shim/gRPC "
        "| shim vs 1 stream | plain vs 1 stream | TTFT shim ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, plain, g, s, ttft in rows:
        print(
            f"| {n} | {plain:.1f} | {g:.1f} | {s:.1f} | {g / plain:.2f} | {s / plain:.2f} | {s / g:.2f} "
            f"| {s / single_shim:.2f} | {plain / single_plain:.2f} | {ttft:.0f} |"
        )
    print()
    print("llama_decode alone, one token per sequence (the most batching can give on this machine)")
    print("| sequences | ms per step | tok/s | best possible vs 1 stream |")
    print("|---|---|---|---|")
    for n, ms in steps.items():
        print(f"| {n} | {ms:.2f} | {n * 1000 / ms:.0f} | {n * steps[counts[0]] / ms / counts[0]:.2f} |")
    print()
    print("second chat turn (gRPC, one slot) | prompt tokens evaluated | prompt_eval ms | TTFT ms")
    print("|---|---|---|---|")
    for kind in ("reuse", "cold"):
        count, ms, ttft = turns[kind]
        print(f"| {kind} | {count:.0f} | {ms:.1f} | {ttft:.1f} |")
    print()
    print("greedy outputs (64 tokens) identical to the same request alone:")
    for n, (same, total) in matches.items():
        print(f"  {n} concurrent streams: {same}/{total}")


if __name__ == "__main__":
    main()

"""bench/decode: one stream's decode speed as each side measures it itself, to tell the
kernels from the server around them.

    python -m bench.decode [--reps 9] [--tokens 128] [--threads 2]

Four figures per repetition, in an order rotated per repetition, on SmolLM2 with one slot each:
- llama-server's own `timings.predicted_per_second` (no HTTP in it);
- the plain llama-cpp-python loop of bench/baseline.py, in a fresh process;
- tokenwire's LlamaEngine alone in a fresh process, read by a bare asyncio consumer
  (its sampling chain, detokenizing, stop matching and posting, no gRPC);
- tokenwire's server, `eval_count / eval_duration` from a streamed gRPC Generate (the
  event loop's sends and gRPC's threads share the cores with it), and the rate its
  client saw from first token to last.

If plain ÷ llama-server is near 1, both run the same kernels equally fast and whatever
tokenwire's engine loses against the plain loop is our per-token work. Not a test:
nothing here asserts a speed; single-stream figures swing about ±10% per repetition
here, so read the medians of the per-repetition ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx

from bench.compare.build import llama_server
from bench.compare.systems import Setup, start_llama_server, stopper
from bench.engine import chatml
from server.bootstrap import SMOLLM2, cached_path
from server.settings import Settings
from tests.procs import ROOT, start_server
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

PROMPT = chatml("Write a long essay about the sea.")

_PLAIN = """
import sys
from pathlib import Path
from bench.baseline import plain_batched_loop

print(plain_batched_loop(Path(sys.argv[1]), [sys.argv[2]], int(sys.argv[3]), 2048)["decode_tok_s"])
"""

_ENGINE = """
import asyncio, sys
from pathlib import Path
from server.engine.llama import LlamaEngine
from server.engine.types import CompletionRequest, DoneEvent, LoadOptions, SamplingParams, Stream

async def main():
    engine = LlamaEngine(Path(sys.argv[1]), LoadOptions(2048, 512, 1, int(sys.argv[4])))
    stream = Stream()
    greedy = SamplingParams(temperature=0, num_predict=int(sys.argv[3]))
    engine.submit(CompletionRequest(sys.argv[2], greedy), stream)
    async for event in stream:
        if isinstance(event, DoneEvent):
            print(event.eval_count / (event.eval_duration_ns / 1e9))
    engine.close()

asyncio.run(main())
"""


def tok_s_alone(code: str, gguf: Path, tokens: int, threads: int) -> float:
    """Run one of the snippets above in a fresh process, as a server would be; it prints
    its decode rate last (argv: the GGUF, the prompt, tokens, threads)."""
    out = subprocess.run([sys.executable, "-c", code, str(gguf), PROMPT, str(tokens), str(threads)],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout  # fmt: skip
    return float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2,
                    help="llama.cpp threads of llama-server, the engine and the server (the plain loop "
                         "of bench/baseline.py always uses every core)")  # fmt: skip
    args = ap.parse_args()
    gguf = cached_path(Settings.from_env().cache_dir, SMOLLM2)
    threads = str(args.threads)
    proc, url = start_llama_server(Setup(gguf, SMOLLM2.name, args.threads, 1, 2048), llama_server())
    stop_ls = stopper(proc)
    http = httpx.Client(base_url=url, timeout=600)
    tmp = tempfile.TemporaryDirectory()
    server = start_server(Path(tmp.name), OLLAMA_NUM_PARALLEL="1", TOKENWIRE_NUM_THREADS=threads)
    channel = grpc.insecure_channel(server.address)
    stub = inference_pb2_grpc.InferenceServiceStub(channel)

    def llama() -> float:
        body = {"prompt": PROMPT, "n_predict": args.tokens, "temperature": 0, "ignore_eos": True}
        return float(http.post("/completion", json=body).json()["timings"]["predicted_per_second"])

    def tokenwire() -> tuple[float, float]:
        options = types_pb2.Options(temperature=0, num_predict=args.tokens)
        req = inference_pb2.GenerateRequest(model=SMOLLM2.name, prompt=PROMPT, raw=True, options=options)
        first = None
        for chunk in stub.Generate(req):
            if chunk.response and first is None:
                first = time.perf_counter()
            last = chunk
        seen = (last.eval_count - 1) / (time.perf_counter() - (first or 0))
        return last.eval_count / (last.eval_duration / 1e9), seen

    try:
        llama(), tokenwire()  # warm both
        rows: list[tuple[float, ...]] = []
        sides: list[Callable[[], tuple[float, ...]]] = [
            lambda: (llama(),),
            lambda: (tok_s_alone(_PLAIN, gguf, args.tokens, args.threads),),
            lambda: (tok_s_alone(_ENGINE, gguf, args.tokens, args.threads),),
            tokenwire,
        ]
        for rep in range(args.reps):
            got: dict[int, tuple[float, ...]] = {}
            for k in range(len(sides)):  # rotated per repetition: the first of a round runs slower
                i = (rep + k) % len(sides)
                got[i] = sides[i]()
            ls, pl, alone, tw, seen = (x for i in range(len(sides)) for x in got[i])
            rows.append((ls, pl, alone, tw, seen))
            print(f"  rep {rep + 1}: llama-server {ls:.1f}  plain {pl:.1f}  engine alone {alone:.1f}  "
                  f"tokenwire {tw:.1f} (client {seen:.1f})")  # fmt: skip
    finally:
        channel.close()
        server.stop()
        stop_ls()
        tmp.cleanup()

    def med(i: int, j: int) -> float:
        return statistics.median(r[i] / r[j] for r in rows)

    print(f"bench/decode: SmolLM2 Q4_1, one stream, {args.tokens} tokens, {args.threads} threads, "
          f"medians of {args.reps}")  # fmt: skip
    print("| llama-server tok/s | plain loop | engine alone | tokenwire server | its client | plain ÷ LS "
          "| engine alone ÷ plain | server ÷ engine alone | server ÷ LS |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    cols = [statistics.median(r[i] for r in rows) for i in range(5)]
    print(f"| {' | '.join(f'{c:.1f}' for c in cols)} "
          f"| {med(1, 0):.3f} | {med(2, 1):.3f} | {med(3, 2):.3f} | {med(3, 0):.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()

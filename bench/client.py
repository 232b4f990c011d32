"""bench/client: what tokenwire_client costs over the raw generated stubs.

    python -m bench.client [--streams 1,8] [--tokens 128] [--reps 9]

Streams the same greedy generations through tokenwire_client.Client(stream=True) and
through the bare InferenceServiceStub, from one process, and prints the median tok/s
of each and the median of the paired ratios client / stubs (issue 14 asks for at least
0.98). Each repetition runs the two back to back, in alternating order, so that the
machine's drift of 10-20% over minutes is shared by a pair. Not a test: nothing here
asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import grpc

import tokenwire_client
from bench.engine import _options, _run_concurrent, _summary, chatml, prompts, via_grpc
from server.bootstrap import SMOLLM2
from tests.procs import start_server
from tokenwire.v1 import inference_pb2_grpc


def via_client(client: tokenwire_client.Client, ps: list[str], n_predict: int) -> dict:
    def one(p: str) -> tuple[float | None, int]:
        t0 = time.perf_counter()
        first = final = None
        for part in client.generate(SMOLLM2.name, p, raw=True, stream=True, options=_options(n_predict)):
            if first is None:
                first = time.perf_counter() - t0
            final = part
        assert final is not None and final.eval_count is not None
        return first, final.eval_count

    wall, res = _run_concurrent(one, [chatml(p) for p in ps])
    return _summary(wall, res)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,8")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",")]
    cells: dict[tuple[int, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), OLLAMA_NUM_PARALLEL=str(max(counts)))
        try:
            with (
                grpc.insecure_channel(server.address) as ch,
                tokenwire_client.Client(server.address) as client,
            ):
                stub = inference_pb2_grpc.InferenceServiceStub(ch)
                via_grpc(stub, prompts(1), 8)  # load the model before timing
                for rep in range(args.reps):
                    for n in counts:
                        order = ("stubs", "client") if rep % 2 == 0 else ("client", "stubs")
                        for kind in order:
                            run = (
                                via_grpc(stub, prompts(n), args.tokens)
                                if kind == "stubs"
                                else via_client(client, prompts(n), args.tokens)
                            )
                            cells.setdefault((n, kind), []).append(run["tok_s"])
        finally:
            server.stop()
    print(f"bench/client: SmolLM2-135M Q4_1, {args.tokens} greedy tokens per stream, median of {args.reps}")
    print("| streams | stubs tok/s | client tok/s | client/stubs (paired) | quartiles of the pairs |")
    print("|---|---|---|---|---|")
    for n in counts:
        stubs, client_ = cells[(n, "stubs")], cells[(n, "client")]
        pairs = [b / a for a, b in zip(stubs, client_, strict=True)]
        q1, _, q3 = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else (pairs[0], 0, pairs[0])
        print(
            f"| {n} | {statistics.median(stubs):.1f} | {statistics.median(client_):.1f} "
            f"| {statistics.median(pairs):.3f} | {q1:.3f}-{q3:.3f} |"
        )


if __name__ == "__main__":
    main()

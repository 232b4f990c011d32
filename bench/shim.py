"""bench/shim: what the REST shim costs per token.

    python -m bench.shim [--streams 1,8] [--tokens 128] [--reps 5]

Streams the same greedy generations through the shim and directly over gRPC, from the
same client machine, and prints the median tok/s of each and the ratio shim / gRPC
(issue 5 asks for at least 0.97). Each repetition runs the two back to back, in
alternating order, and the ratio shown is the median of those paired ratios: this
machine's speed drifts by 10-20% over minutes, and a pair shares the drift. The
quartiles of the paired ratios show the noise. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import grpc
import httpx

from bench.engine import prompts, via_grpc, via_shim
from tests.procs import start_server, start_shim
from tokenwire.v1 import inference_pb2_grpc


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
        shim = start_shim(server.address)
        try:
            with (
                grpc.insecure_channel(server.address) as ch,
                httpx.Client(base_url=f"http://{shim.address}", timeout=600) as client,
            ):
                stub = inference_pb2_grpc.InferenceServiceStub(ch)
                via_grpc(stub, prompts(1), 8)  # load the model before timing
                for rep in range(args.reps):
                    for n in counts:
                        # Alternate which goes first, so drift in the machine's speed cancels out.
                        order = ("grpc", "shim") if rep % 2 == 0 else ("shim", "grpc")
                        for kind in order:
                            run = (
                                via_grpc(stub, prompts(n), args.tokens)
                                if kind == "grpc"
                                else via_shim(client, prompts(n), args.tokens)
                            )
                            cells.setdefault((n, kind), []).append(run["tok_s"])
        finally:
            shim.stop()
            server.stop()
    print(f"bench/shim: SmolLM2-135M Q4_1, {args.tokens} greedy tokens per stream, median of {args.reps}")
    print("| streams | gRPC tok/s | shim tok/s | shim/gRPC (paired) | quartiles of the pairs |")
    print("|---|---|---|---|---|")
    for n in counts:
        g, s = cells[(n, "grpc")], cells[(n, "shim")]
        pairs = [b / a for a, b in zip(g, s, strict=True)]
        q1, _, q3 = statistics.quantiles(pairs, n=4)
        print(
            f"| {n} | {statistics.median(g):.1f} | {statistics.median(s):.1f} "
            f"| {statistics.median(pairs):.3f} | {q1:.3f}-{q3:.3f} |"
        )


if __name__ == "__main__":
    main()

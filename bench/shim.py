"""bench/shim: what the REST shim costs per token.

    python -m bench.shim [--streams 1,8] [--tokens 128] [--reps 9] [--server-threads N]

Streams the same greedy generations through the shim and directly over gRPC, from the
same client machine, and prints the median tok/s of each and the ratio shim / gRPC
(issue 5 asks for at least 0.97). Each repetition runs the two back to back, in
alternating order, and the ratio shown is the median of those paired ratios: this
machine's speed drifts by 10-20% over minutes, and a pair shares the drift. The
quartiles of the paired ratios show the noise. Not a test: nothing here asserts a speed.

It also prints where the CPU goes per streamed token (the shim process, and this
client process, which runs either the gRPC or the HTTP client), and what one bare
process hop costs on this machine: a uvloop relay that reads a 100-byte message every
8 ms and writes it on, with no application code. When llama.cpp's threads occupy every
core, each of those CPU milliseconds comes out of decoding; --server-threads 1 leaves a
core free on a 2-core machine to show the difference.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import httpx

from bench.engine import prompts, via_grpc, via_shim
from tests.procs import start_server, start_shim
from tokenwire.v1 import inference_pb2_grpc


def process_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_RELAY = """
import asyncio, os, socket, sys, time
import uvloop
src = socket.socket(fileno=int(sys.argv[1])); dst = socket.socket(fileno=int(sys.argv[2]))
async def main():
    r, _w = await asyncio.open_connection(sock=src)  # keep both writers: a dropped one closes
    _r, w = await asyncio.open_connection(sock=dst)
    n, t0 = 0, None
    while (data := await r.read(65536)):
        if t0 is None:
            t0 = time.process_time()
        w.write(data)
        n += 1
    await w.drain()
    print((time.process_time() - t0) / max(n - 1, 1) * 1e6)
uvloop.run(main())
"""


def relay_floor_us(messages: int = 600, gap_s: float = 0.008) -> float:
    """CPU microseconds per message of a bare uvloop relay process: one process hop
    with nothing else in it, the least a separate shim process can cost per token."""
    a_out, a_in = socket.socketpair()
    b_out, b_in = socket.socketpair()
    relay = subprocess.Popen(
        [sys.executable, "-c", _RELAY, str(a_in.fileno()), str(b_out.fileno())],
        pass_fds=(a_in.fileno(), b_out.fileno()),
        stdout=subprocess.PIPE,
        text=True,
    )
    a_in.close()
    b_out.close()

    def drain() -> None:
        while b_in.recv(65536):
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    for _ in range(messages):
        a_out.sendall(b"x" * 100)
        time.sleep(gap_s)
    a_out.close()
    out, _ = relay.communicate(timeout=60)
    reader.join(10)
    b_in.close()
    return float(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,8")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--server-threads", default="", help="llama.cpp threads (default: the server's)")
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",")]
    cells: dict[tuple[int, str], list[tuple[float, float, float]]] = {}
    env = {"TOKENWIRE_NUM_THREADS": args.server_threads} if args.server_threads else {}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), OLLAMA_NUM_PARALLEL=str(max(counts)), **env)
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
                            cpu0 = time.process_time(), process_cpu_s(shim.proc.pid)
                            run = (
                                via_grpc(stub, prompts(n), args.tokens)
                                if kind == "grpc"
                                else via_shim(client, prompts(n), args.tokens)
                            )
                            tokens = n * args.tokens
                            client_ms = (time.process_time() - cpu0[0]) / tokens * 1e3
                            shim_ms = (process_cpu_s(shim.proc.pid) - cpu0[1]) / tokens * 1e3
                            cells.setdefault((n, kind), []).append((run["tok_s"], client_ms, shim_ms))
        finally:
            shim.stop()
            server.stop()
    threads = f", {args.server_threads} llama.cpp thread(s)" if args.server_threads else ""
    print(
        f"bench/shim: SmolLM2-135M Q4_1, {args.tokens} greedy tokens per stream, "
        f"median of {args.reps}{threads}"
    )
    print("| streams | gRPC tok/s | shim tok/s | shim/gRPC (paired) | quartiles of the pairs |")
    print("|---|---|---|---|---|")
    for n in counts:
        g, s = cells[(n, "grpc")], cells[(n, "shim")]
        pairs = [b[0] / a[0] for a, b in zip(g, s, strict=True)]
        q1, _, q3 = statistics.quantiles(pairs, n=4)
        print(
            f"| {n} | {statistics.median(x[0] for x in g):.1f} | {statistics.median(x[0] for x in s):.1f} "
            f"| {statistics.median(pairs):.3f} | {q1:.3f}-{q3:.3f} |"
        )
    print()
    print("CPU ms per streamed token (medians):")
    print("| streams | client, gRPC | client, HTTP | shim process | extra via the shim |")
    print("|---|---|---|---|---|")
    for n in counts:
        g, s = cells[(n, "grpc")], cells[(n, "shim")]
        cg, cs = statistics.median(x[1] for x in g), statistics.median(x[1] for x in s)
        shim_ms = statistics.median(x[2] for x in s)
        print(f"| {n} | {cg:.3f} | {cs:.3f} | {shim_ms:.3f} | {cs + shim_ms - cg:.3f} |")
    print()
    hop = relay_floor_us()
    print(f"One bare process hop here (uvloop relay, a message every 8 ms): {hop:.0f} µs CPU per message")


if __name__ == "__main__":
    main()

"""bench/observe: what metrics and tracing cost. Two stacks (server + shim) on the same
GGUF, one with both on (Prometheus metrics in server and shim, scraped every second,
and OpenTelemetry spans exported over OTLP to a receiver in this process), one with
both off (TOKENWIRE_METRICS=false, no OTEL endpoint); the same greedy generations
stream through each shim, the two interleaved, and the median tok/s of each and of
the paired ratios on / off are printed (issue 16 asks for at least 0.99).

    python -m bench.observe [--streams 1,8] [--tokens 128] [--reps 5]

Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import urllib.request
from pathlib import Path

import httpx

from bench.engine import prompts, via_shim
from tests.otlp import Receiver
from tests.procs import Proc, start_server, start_shim


def _scraper(urls: list[str], stop: threading.Event) -> threading.Thread:
    """Prometheus's part: a GET of every /metrics each second."""

    def run() -> None:
        while not stop.wait(1.0):
            for url in urls:
                try:
                    urllib.request.urlopen(url, timeout=5).read()
                except OSError:
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _stack(root: Path, slots: int, on: bool, receiver: Receiver) -> tuple[Proc, Proc]:
    common = {"OLLAMA_NUM_PARALLEL": str(slots), "OLLAMA_KEEP_ALIVE": "-1"}
    if on:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_EXPORTER_OTLP_INSECURE": "true"}
        server = start_server(root, TOKENWIRE_METRICS_ADDR="127.0.0.1:0", **common, **otel)
        return server, start_shim(server.address, **otel)
    server = start_server(root, TOKENWIRE_METRICS="false", **common)
    return server, start_shim(server.address, TOKENWIRE_METRICS="false")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="1,8")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",")]
    receiver = Receiver()
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        on = _stack(Path(tmp) / "on", max(counts), True, receiver)
        off = _stack(Path(tmp) / "off", max(counts), False, receiver)
        _scraper([f"http://{on[0].listening('metrics')}/metrics", f"http://{on[1].address}/metrics"], stop)
        clients = {
            name: httpx.Client(base_url=f"http://{shim.address}", timeout=600, limits=httpx.Limits())
            for name, (_, shim) in (("on", on), ("off", off))
        }
        try:
            for c in clients.values():  # load the model on both before anything is timed
                via_shim(c, prompts(1), 8)
            rows = []
            for n in counts:
                tok: dict[str, list[float]] = {"on": [], "off": []}
                ratios = []
                for rep in range(args.reps):
                    order = ("on", "off") if rep % 2 == 0 else ("off", "on")
                    got = {k: via_shim(clients[k], prompts(n), args.tokens)["tok_s"] for k in order}
                    for k in got:
                        tok[k].append(got[k])
                    ratios.append(got["on"] / got["off"])
                rows.append(
                    (
                        n,
                        statistics.median(tok["on"]),
                        statistics.median(tok["off"]),
                        statistics.median(ratios),
                    )
                )
        finally:
            stop.set()
            for c in clients.values():
                c.close()
            for proc in (*on[::-1], *off[::-1]):
                proc.stop()
            receiver.stop()
    print(f"metrics + tracing on / off, through the shim, {args.tokens} tokens, {args.reps} paired reps")
    print("| streams | on tok/s | off tok/s | on / off (median of pairs) |")
    print("|---|---|---|---|")
    for n, a, b, r in rows:
        print(f"| {n} | {a:.1f} | {b:.1f} | {r:.3f} |")
    print(f"spans received: {len(receiver.spans)}")


if __name__ == "__main__":
    main()

"""bench/compare: tokenwire beside llama-server (what Ollama runs underneath) and
llama-cpp-python's own server, on the same GGUF, threads and slots, in one run.

    python -m bench.compare [--models smollm2:135m,gemma3:270m] [--streams 1,2,4,8,16]
                            [--reps 3] [--tokens 128] [--server-threads N]
                            [--extra NAME=URL ...] [--out docs/bench]

llama-server is built once from the llama.cpp inside the pinned llama-cpp-python sdist
with our wheel's CMake flags (build.py), so both sides run the same kernels. Every
system is started on loopback and stays up; each repetition runs every stream count on
every system, in an order rotated per cell (after one untimed cell at the most streams,
so every system's cache holds the prompts), and the table gives medians over
repetitions and each system's tok/s ÷ llama-server's, the median of per-repetition
ratios. Decoding is greedy with a fixed token budget (the same tokens everywhere: the
text at one stream is compared). Writes results.md, results.json and the plots to
--out. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.compare import plot, report, systems
from bench.compare.build import llama_server
from bench.compare.run import Cell, run_cell
from bench.engine import chatml, prompts
from server.bootstrap import GEMMA3, SMOLLM2, fetch
from server.settings import Settings

MODELS = {m.name: m for m in (SMOLLM2, GEMMA3)}
# The processes each system's memory counts ("" for the client, whose server gRPC counts).
MEMORY_NAMES = {"tokenwire REST": "tokenwire (server + shim)", "tokenwire gRPC": "tokenwire server",
                "tokenwire_client": "", systems.INPROCESS: "tokenwire (one process)"}  # fmt: skip


def model_prompts(model: str, n: int) -> list[str]:
    """Raw prompts, already in the model's chat format (gemma3-270m here is a base model)."""
    return [chatml(p) if model == SMOLLM2.name else p for p in prompts(n)]


def start_all(setup: systems.Setup, root: Path, binary: Path, extras: list[str], only: set[str] | None):
    """Every system, up and loaded; on a failure the ones already started are stopped."""
    wanted = {
        "tokenwire REST": lambda: systems.tokenwire_rest(setup, server, shim),
        systems.INPROCESS: lambda: systems.tokenwire_rest_inprocess(setup, root / "one"),
        "tokenwire gRPC": lambda: systems.tokenwire_grpc(setup, server),
        "tokenwire_client": lambda: systems.tokenwire_client(setup, server),
        report.BASELINE: lambda: systems.llama_server(setup, binary),
        "llama-cpp-python server": lambda: systems.llama_cpp_python_server(setup),
    }
    for extra in extras:
        name, url = extra.split("=", 1)
        wanted[name] = lambda name=name, url=url: systems.ollama_compatible(name, url, setup)
    server, shim = systems.tokenwire(setup, root)
    started: list[systems.System] = []
    try:
        for name, start in wanted.items():
            if only is None or name in only or name == report.BASELINE:
                started.append(start())
    except BaseException:
        for s in started:
            s.close()
        shim.stop()
        server.stop()
        raise
    return started, (server, shim)


def warm(model: str, chosen: list[systems.System], ps: list[str], args) -> None:
    """Compare each system's text at one stream with llama-server's, then warm every cache."""
    texts = {s.name: s.stream(ps[0], args.tokens).text for s in chosen}
    for name, text in texts.items():
        if text == texts[report.BASELINE]:
            print(f"  {model} {name}: the same text as {report.BASELINE} at one stream")
        else:
            print(f"  {model} {name}: DIFFERENT text from {report.BASELINE}: {text[:80]!r} "
                  f"against {texts[report.BASELINE][:80]!r}")  # fmt: skip
    # One untimed cell at the most streams: every system's slots then hold every
    # prompt the cells send, so the cells compare serving, not who filled a cache
    # first (tokenwire's REST and gRPC share one server: whichever went first in
    # the first repetition paid the other's misses, 7 of 8 requests at one stream).
    for s in chosen:
        run_cell(s, ps, max(args.streams), 1, args.tokens)


def one_model(args, model: str, binary: Path) -> tuple[list[report.Row], dict[str, int]]:
    threads = args.server_threads or os.cpu_count() or 1
    setup = systems.Setup(fetch(Settings.from_env().cache_dir, MODELS[model]), model, threads,
                          max(args.streams), args.ctx,
                          dict(kv.split("=", 1) for kv in args.tokenwire_env))  # fmt: skip
    ps = model_prompts(model, max(args.streams) * 2)
    only = set(args.systems.split(",")) if args.systems else None
    with tempfile.TemporaryDirectory() as tmp:
        chosen, (server, shim) = start_all(setup, Path(tmp), binary, args.extra, only)
        try:
            warm(model, chosen, ps, args)
            reps: list[list[Cell]] = []
            for rep in range(args.reps):
                cells = []
                for i, streams in enumerate(args.streams):
                    k = (rep + i) % len(chosen)
                    for s in chosen[k:] + chosen[:k]:
                        rounds = max(1, -(-args.min_requests // streams))
                        cells.append(run_cell(s, ps, streams, rounds, args.tokens))
                        c = cells[-1]
                        print(f"  rep {rep + 1} {model} {streams:>2} streams {s.name:<24} "
                              f"{c.tok_s:7.1f} tok/s", flush=True)  # fmt: skip
                reps.append(cells)
            memory = {MEMORY_NAMES.get(s.name, s.name): systems.rss_bytes(s.pids) for s in chosen if s.pids}
            memory.pop("", None)
        finally:
            for s in chosen:
                s.close()
            shim.stop()
            server.stop()
    return report.rows(model, reps), memory


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())  # fmt: skip
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    import llama_cpp

    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    commit = git.stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}; "
            f"llama-cpp-python {llama_cpp.__version__} (llama-server built from its vendored llama.cpp); "
            f"tokenwire {commit}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated, of " + ", ".join(MODELS))
    p.add_argument("--streams", default="1,2,4,8,16", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--tokens", type=int, default=128, help="tokens generated per request")
    p.add_argument("--min-requests", type=int, default=4, help="requests per cell at least (in rounds)")
    p.add_argument("--ctx", type=int, default=2048, help="context per slot")
    p.add_argument("--server-threads", type=int, default=0, help="llama.cpp threads on every side")
    p.add_argument("--systems", default="", help="only these systems (comma-separated), with llama-server")
    p.add_argument("--extra", action="append", default=[], help="another Ollama server, NAME=URL")
    p.add_argument(
        "--tokenwire-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for tokenwire's server only (to measure a setting)",
    )
    p.add_argument("--out", type=Path, default=Path("docs/bench"))
    args = p.parse_args()
    # SIGTERM (a `timeout`, a CI cancel) unwinds like Ctrl-C, so the finally blocks stop
    # every server this started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if importlib.util.find_spec("matplotlib") is None:  # said now, not after the whole run
        sys.exit("bench/compare draws its plots with matplotlib: pip install -e '.[bench]' (make compare)")
    binary = llama_server()
    rows: list[report.Row] = []
    memory: dict[str, dict[str, int]] = {}
    tables = []
    for model in args.models.split(","):
        model_rows, memory[model] = one_model(args, model, binary)
        rows += model_rows
        tables.append(f"## {model}\n\n{report.markdown(model_rows, memory[model])}")
        print(tables[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    how = (f"{args.reps} repetitions, streams {args.streams}, {args.tokens} tokens per request, "
           f"greedy, threads {args.server_threads or os.cpu_count()} on every side, "
           f"{max(args.streams)} slots of {args.ctx} tokens")  # fmt: skip
    host = machine()
    (args.out / "results.md").write_text(
        "# bench/compare results\n\n"
        f"Machine: {host}.\n\nRun: `python -m bench.compare` ({how}).\n\n" + "\n".join(tables)
    )
    results = {"machine": host, "run": how, "rows": report.as_json(rows), "memory": memory}
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    for path in plot.all_plots(rows, memory, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

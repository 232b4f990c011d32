"""bench/steps: one llama_decode of one token per sequence, timed by how many sequences
and which sequence ids, in a context laid out as the engine's (one KV stream per slot).

    python -m bench.steps [--model smollm2:135m] [--threads 2] [--slots 8] [--unified]

With kv_unified off, llama.cpp's split_equal puts only a run of consecutive sequence ids
into one ubatch, so slots 0, 2, 4 and 6 are four passes over the weights where slots 0-3
are one: engine/prefix.py keeps a step's slots in one run for this. The layouts are
interleaved, and each prints its median. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import llama_cpp as lc

from bench.baseline import _add, _context, _load
from server.bootstrap import GEMMA3, SMOLLM2, fetch
from server.settings import Settings

LAYOUTS = [(0,), (0, 1), (0, 1, 2, 3), (0, 2, 4, 6), (1, 2, 3, 4), (0, 1, 2, 3, 4, 5, 6, 7)]
PROMPT = 60  # tokens already in each sequence's cache


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=SMOLLM2.name, choices=[SMOLLM2.name, GEMMA3.name])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--slots", type=int, default=8)
    p.add_argument("--unified", action="store_true", help="one KV stream for every slot")
    p.add_argument("--rounds", type=int, default=40)
    args = p.parse_args()
    spec = SMOLLM2 if args.model == SMOLLM2.name else GEMMA3
    model = _load(fetch(Settings.from_env().cache_dir, spec))
    ctx = _context(model, args.slots, 2048, args.threads, args.unified)
    batch = lc.llama_batch_init(512, 0, args.slots)
    layouts = [lay for lay in LAYOUTS if max(lay) < args.slots]
    for s in range(args.slots):
        for j in range(PROMPT):
            _add(batch, j, 100 + j + s, j, s, j == PROMPT - 1)
        batch.n_tokens = PROMPT
        assert lc.llama_decode(ctx, batch) == 0
    pos = [PROMPT] * args.slots
    times: dict[tuple[int, ...], list[float]] = {lay: [] for lay in layouts}
    for r in range(args.rounds):
        for lay in layouts:
            for i, s in enumerate(lay):
                _add(batch, i, 200 + r, pos[s], s, True)
                pos[s] += 1
            batch.n_tokens = len(lay)
            t0 = time.perf_counter()
            assert lc.llama_decode(ctx, batch) == 0
            times[lay].append(time.perf_counter() - t0)
    print(f"{args.model}, {args.threads} threads, {args.slots} slots, kv_unified {args.unified}")
    for lay in layouts:
        ms = statistics.median(times[lay]) * 1000
        print(f"  seq ids {lay!s:26} {ms:7.2f} ms  {ms / len(lay):6.2f} ms a token")
    lc.llama_batch_free(batch)
    lc.llama_free(ctx)
    lc.llama_model_free(model)


if __name__ == "__main__":
    main()

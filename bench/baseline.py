"""The baseline: a plain low-level llama.cpp loop decoding N greedy sequences in one batch.

No server, no queues, no sampling chains beyond greedy: what the hardware gives. Every
ratio in bench/ is measured against this, in the same run, on the same GGUF.
"""

from __future__ import annotations

import ctypes
import os
import statistics
import time
from pathlib import Path

import llama_cpp as lc


@lc.llama_log_callback
def _silent(level, text, user_data):  # module-level: ctypes must keep the callback alive
    pass


def _load(model_path: Path):
    lc.llama_log_set(_silent, ctypes.c_void_p())
    lc.llama_backend_init()
    return lc.llama_model_load_from_file(str(model_path).encode(), lc.llama_model_default_params())


def _context(model, n: int, n_ctx: int, threads: int = 0, unified: bool = False):
    """n sequences of n_ctx tokens each, on `threads` (all cores when 0); one KV stream
    per sequence unless `unified`, as the engine runs."""
    cparams = lc.llama_context_default_params()
    cparams.n_ctx = n_ctx * n
    cparams.n_batch = cparams.n_ubatch = 512
    cparams.n_seq_max = n
    cparams.n_threads = cparams.n_threads_batch = threads or os.cpu_count() or 1
    cparams.kv_unified = unified
    return lc.llama_init_from_model(model, cparams)


def _add(batch, i: int, tok: int, pos: int, seq: int, logits: bool) -> None:
    batch.token[i], batch.pos[i], batch.n_seq_id[i] = tok, pos, 1
    batch.seq_id[i][0], batch.logits[i] = seq, logits


def decode_step_ms(model_path: Path, sizes: list[int], steps: int = 100) -> dict[int, float]:
    """Median milliseconds of one llama_decode of `n` tokens, one per sequence, for each n.

    This bounds what any server over llama.cpp can gain from batching on this machine:
    n streams can at best run n * t(1) / t(n) times faster than one.
    """
    model = _load(model_path)
    out = {}
    for n in sizes:
        ctx = _context(model, n, 4096)
        batch = lc.llama_batch_init(512, 0, n)
        prompt = 40  # a short prompt per sequence, so attention spans a realistic cache
        for s in range(n):
            for j in range(prompt):
                _add(batch, s * prompt + j, 100 + j + s, j, s, j == prompt - 1)
        batch.n_tokens = n * prompt
        assert lc.llama_decode(ctx, batch) == 0
        times = []
        for k in range(steps):
            for s in range(n):
                _add(batch, s, 200 + k, prompt + k, s, True)
            batch.n_tokens = n
            t0 = time.perf_counter()
            assert lc.llama_decode(ctx, batch) == 0
            times.append(time.perf_counter() - t0)
        out[n] = statistics.median(times) * 1000
        lc.llama_batch_free(batch)
        lc.llama_free(ctx)
    lc.llama_model_free(model)
    return out


def plain_batched_loop(model_path: Path, prompts: list[str], n_predict: int, n_ctx: int = 4096) -> dict:
    n = len(prompts)
    model = _load(model_path)
    ctx = _context(model, n, n_ctx)
    vocab = lc.llama_model_get_vocab(model)
    batch = lc.llama_batch_init(512, 0, n)
    samplers = []
    for _ in range(n):
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_greedy())
        samplers.append(chain)
    toks = []
    for p in prompts:
        data = p.encode()
        arr = (lc.llama_token * (len(data) + 8))()
        k = lc.llama_tokenize(vocab, data, len(data), arr, len(data) + 8, True, True)
        toks.append(list(arr[:k]))
    t0 = time.perf_counter()
    # Prefill all prompts in one batch.
    i = 0
    last_idx = []
    for s, tk in enumerate(toks):
        for j, t in enumerate(tk):
            _add(batch, i, t, j, s, j == len(tk) - 1)
            if j == len(tk) - 1:
                last_idx.append(i)
            i += 1
    batch.n_tokens = i
    assert lc.llama_decode(ctx, batch) == 0
    t_prefill = time.perf_counter()
    pos = [len(t) for t in toks]
    nxt = [lc.llama_sampler_sample(samplers[s], ctx, last_idx[s]) for s in range(n)]
    generated = n
    for _ in range(n_predict - 1):
        for s in range(n):
            _add(batch, s, nxt[s], pos[s], s, True)
            pos[s] += 1
        batch.n_tokens = n
        assert lc.llama_decode(ctx, batch) == 0
        nxt = [lc.llama_sampler_sample(samplers[s], ctx, s) for s in range(n)]
        generated += n
    t_end = time.perf_counter()
    for chain in samplers:
        lc.llama_sampler_free(chain)
    lc.llama_batch_free(batch)
    lc.llama_free(ctx)
    lc.llama_model_free(model)
    return {
        "tokens": generated,
        "decode_tok_s": (generated - n) / (t_end - t_prefill),
        "total_tok_s": generated / (t_end - t0),
    }

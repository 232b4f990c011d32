"""Which free slot a new prompt takes, and copying a cached prefix from one slot to another.

Taking the slot with the longest common prefix is what llama-server and Ollama's
default cache do, and it throws away whatever that slot held past the shared part. Two
conversations that share only a chat header (9 tokens of SmolLM2's ChatML) then evict
each other on every turn, and each turn re-evaluates its own prompt: at one stream with
eight slots, bench/compare's prompts spent about 40 of 60 ms of their first token so.
Ollama's multi-user cache instead forks the shared prefix into the least recently used
slot, so the other conversation stays whole; that is the rule here.

The copy goes through llama.cpp's sequence state (the cells of one sequence, about
23 KB a token for SmolLM2), not `llama_memory_seq_cp`: with one KV stream per slot
(kv_unified off) a cross-stream seq_cp copies the whole stream. Measured on this
machine for a 145-token slot: state copy 0.9 ms, seq_cp 11 ms, evaluating the 9
shared tokens again 66 ms.

Which free slot also decides how a step is decoded. With one KV stream per slot,
llama.cpp's `split_equal` puts only a run of consecutive sequence ids into one ubatch,
and each ubatch is one pass over the weights: four streams on slots 0, 2, 4 and 6 are
four passes, on slots 0-3 one. On 2 threads here a step of four SmolLM2 tokens took
22.9 ms spread out and 16.9 ms consecutive (gemma3-270m: 44.6 and 32.9), and 4 streams
on 16 slots had 3 or 4 runs in 1430 of 1430 steps. So a prompt takes a slot that keeps
the busy slots in the fewest runs, and copies its prefix there when it lies elsewhere.
"""

from __future__ import annotations

import ctypes

import llama_cpp as lc

from server.engine.slots import Slot, common_prefix


def runs(seq_ids: set[int]) -> int:
    """Runs of consecutive ids: the ubatches llama.cpp splits a step over these slots into."""
    return sum(1 for i in seq_ids if i - 1 not in seq_ids)


def pick(free: list[Slot], prompt: list[int], busy: frozenset[int] = frozenset()) -> tuple[Slot, Slot | None]:
    """The slot for `prompt`, and the slot to copy its shared prefix from (or None).

    Only the free slots that leave the busy ones (`busy`: their seq ids) and this one in
    the fewest runs are candidates. Among them, the one with the longest common prefix
    is taken as it is when that loses at most the answer it generated last (the same
    prompt again, or a conversation going on). If it would lose part of another prompt,
    the least recently used candidate is taken instead (Ollama's eviction order), with
    the prefix copied into it from the free slot that shares most of it, unless it holds
    as much of it already.
    """
    shared = {s.seq_id: common_prefix(s.cached, prompt) for s in free}
    after = {s.seq_id: runs(busy | {s.seq_id}) for s in free}
    fewest = min(after.values())
    near = [s for s in free if after[s.seq_id] == fewest]
    best = max(free, key=lambda s: (shared[s.seq_id], -s.used))
    mine = max(near, key=lambda s: (shared[s.seq_id], -s.used))
    keeps = shared[mine.seq_id] >= min(mine.prompt_len, len(mine.cached))
    if keeps and shared[mine.seq_id] >= shared[best.seq_id]:
        return mine, None
    lru = min(near, key=lambda s: s.used)
    if shared[lru.seq_id] >= shared[best.seq_id]:
        return lru, None
    return lru, best


def fork(ctx, mem, source: Slot, target: Slot) -> None:
    """Make target's KV a copy of source's. The caller then keeps the prefix its prompt
    shares and drops the rest, as for any slot (LlamaEngine._start). If llama.cpp refuses
    the state, target is left empty and the prompt is evaluated instead."""
    lc.llama_memory_seq_rm(mem, target.seq_id, 0, -1)
    target.cached = []
    size = lc.llama_state_seq_get_size(ctx, source.seq_id)
    buf = (ctypes.c_uint8 * size)()
    if lc.llama_state_seq_get_data(ctx, buf, size, source.seq_id) != size or (
        lc.llama_state_seq_set_data(ctx, buf, size, target.seq_id) != size
    ):
        lc.llama_memory_seq_rm(mem, target.seq_id, 0, -1)
        return
    target.cached = list(source.cached)

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

Which slot also decides how a step is decoded. With one KV stream per slot, llama.cpp's
`split_equal` puts only a run of consecutive sequence ids into one ubatch, and each
ubatch is one pass over the weights: four streams on slots 0, 2, 4 and 6 are four
passes, on slots 0-3 one. On 2 threads here a step of four SmolLM2 tokens took 22.5 ms
spread out and 16.2 ms consecutive (gemma3-270m: 42.6 and 30.9; `python -m
bench.steps`), and 4 streams on 16 slots had 3 or 4 runs in every step. So when the
slot chosen above would add a run, its content is swapped with a free slot's that does
not: both caches are kept. (Copying it there instead evicted the other slot's prompt,
and a burst of 16 requests then prefilled what had been cached: time to first token at
16 streams went from 82-89 to 207-231 ms.)
"""

from __future__ import annotations

import ctypes
from collections.abc import Set as AbstractSet

import llama_cpp as lc

from server.engine.slots import Slot, common_prefix


def runs(seq_ids: AbstractSet[int]) -> int:
    """Runs of consecutive ids: the ubatches llama.cpp splits a step over these slots into."""
    return sum(1 for i in seq_ids if i - 1 not in seq_ids)


def pick(free: list[Slot], prompt: list[int]) -> tuple[Slot, Slot | None]:
    """The slot for `prompt`, and the slot to copy its shared prefix from (or None).

    The free slot with the longest common prefix is taken as it is when that loses at
    most the answer it generated last (the same prompt again, or a conversation going
    on). If it would lose part of another prompt, the least recently used free slot is
    taken instead (Ollama's eviction order), with the prefix copied into it unless it
    holds as much of it already.
    """
    shared = {s.seq_id: common_prefix(s.cached, prompt) for s in free}
    best = max(free, key=lambda s: (shared[s.seq_id], -s.used))
    if shared[best.seq_id] >= min(best.prompt_len, len(best.cached)):
        return best, None
    lru = min(free, key=lambda s: s.used)
    if lru is best or shared[lru.seq_id] >= shared[best.seq_id]:
        return lru, None
    return lru, best


def relocation(free: list[Slot], chosen: Slot, busy: frozenset[int], filling: bool) -> Slot | None:
    """The free slot to swap `chosen`'s content with so that the busy slots (their seq
    ids) and this one make the fewest runs, or None when `chosen` does already. The least
    recently used of those slots is taken. `filling`: every free slot is being taken in
    this admission anyway, so whatever is chosen, the busy slots end up in one run."""
    if filling:
        return None
    after = {s.seq_id: runs(busy | {s.seq_id}) for s in free}
    fewest = min(after.values())
    if after[chosen.seq_id] == fewest:
        return None
    return min((s for s in free if after[s.seq_id] == fewest), key=lambda s: s.used)


def fork(ctx, mem, source: Slot, target: Slot) -> None:
    """Make target's KV a copy of source's. The caller then keeps the prefix its prompt
    shares and drops the rest, as for any slot (LlamaEngine._start). If llama.cpp refuses
    the state, target is left empty and the prompt is evaluated instead."""
    state = _state(ctx, source.seq_id)
    if not _put(ctx, mem, target.seq_id, state):
        target.cached = []
        return
    target.cached = list(source.cached)


def _state(ctx, seq_id: int):
    size = lc.llama_state_seq_get_size(ctx, seq_id)
    buf = (ctypes.c_uint8 * size)()
    return buf if lc.llama_state_seq_get_data(ctx, buf, size, seq_id) == size else None


def _put(ctx, mem, seq_id: int, state) -> bool:
    """Replace a sequence's KV with a state; False (and the sequence empty) if refused."""
    lc.llama_memory_seq_rm(mem, seq_id, 0, -1)
    if state is not None and lc.llama_state_seq_set_data(ctx, state, len(state), seq_id) == len(state):
        return True
    lc.llama_memory_seq_rm(mem, seq_id, 0, -1)
    return False


def swap(ctx, mem, a: Slot, b: Slot) -> None:
    """Exchange the KV (and the bookkeeping of what it holds) of two free slots. A state
    llama.cpp refuses leaves its new slot empty: that prompt is evaluated again."""
    states = _state(ctx, a.seq_id), _state(ctx, b.seq_id)
    a.cached, b.cached = b.cached, a.cached
    a.prompt_len, b.prompt_len = b.prompt_len, a.prompt_len
    a.used, b.used = b.used, a.used
    for slot, state in ((a, states[1]), (b, states[0])):
        if not _put(ctx, mem, slot.seq_id, state):
            slot.cached, slot.prompt_len = [], 0

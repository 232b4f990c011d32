"""The engine's bookkeeping: a sequence (one request), a slot (one KV stream) and a
feed (one slot's tokens in one step)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from server.engine.stops import StopMatcher
from server.engine.types import CompletionRequest, Stream


@dataclass
class Seq:
    request: CompletionRequest
    stream: Stream
    prompt: list[int]
    sampler: object = None
    greedy: bool = False  # sampled by the engine's own argmax (engine/sampling.plain_greedy)
    n_fed: int = 0  # prompt tokens already in the KV cache
    generated: list[int] = field(default_factory=list)
    next_token: int | None = None  # sampled, not yet decoded
    t_submit: float = 0.0  # when it joined the engine's queue
    t_start: float = 0.0  # when a slot took it
    t_first: float = 0.0
    prompt_evaluated: int = 0
    prompt_cached: int = 0  # prompt tokens whose KV the slot already held
    max_batch: int = 0
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )
    stops: StopMatcher | None = None
    chunks: object = None  # mtmd chunks of a prompt with images, until evaluated


@dataclass
class Slot:
    seq_id: int
    cached: list[int] = field(default_factory=list)  # tokens whose KV is in this sequence
    seq: Seq | None = None
    prompt_len: int = 0  # how many of `cached` came from the last request's prompt
    used: int = 0  # when a request last took it (the engine's admission count): LRU order


@dataclass
class Feed:
    """One slot's tokens in one step: its generated token, or a chunk of its prompt."""

    slot: Slot
    tokens: list[int]
    start: int  # the slot's cached length before this step: the first token's position
    decode: bool
    logits: bool  # the last token's logits are sampled


def common_prefix(a: list[int], b: list[int]) -> int:
    """Tokens a and b share from the start; -1 (a position an image filled) never matches."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i] and a[i] >= 0:
        i += 1
    return i

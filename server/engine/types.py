"""The engine interface: what services and the scheduler see of an engine.

An engine owns one loaded model. `submit` tokenizes a prompt and queues it, its
events going to a Stream; `Stream.cancel()` frees the slot within one decode step.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from server.engine.logprobs import Logprob


@dataclass
class SamplingParams:
    """Resolved options (server defaults < model params < request), reference §2."""

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_last_n: int = 64
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    mirostat: int = 0
    mirostat_tau: float = 5.0
    mirostat_eta: float = 0.1
    seed: int = -1
    num_predict: int = -1
    num_keep: int = 4
    stop: list[str] = field(default_factory=list)
    grammar: str = ""  # GBNF constraining the output (Ollama `format`); "" = free text


@dataclass
class CompletionRequest:
    prompt: str
    sampling: SamplingParams
    # Tokens to prepend (the deprecated `context` input), already tokens.
    prefix_tokens: list[int] = field(default_factory=list)
    # A prompt longer than the context: cut it (keeping num_keep and the end), or refuse.
    truncate: bool = True
    # The context filling up while generating: drop half of what follows num_keep and go
    # on (Ollama's shift), or stop with done_reason "length".
    shift: bool = True
    # Report each generated token's log-probability, with this many alternatives (0-20).
    logprobs: bool = False
    top_logprobs: int = 0
    # Images, in the order of the prompt's [img-N] tags; need a projector.
    images: list[bytes] = field(default_factory=list)


@dataclass
class TokenEvent:
    """Text produced by one sampled token ("" while a stop sequence may be forming)."""

    text: str
    logprob: Logprob | None = None  # when the request asked for logprobs


@dataclass
class DoneEvent:
    done_reason: str  # "stop" | "length"
    prompt_eval_count: int  # the whole prompt, as Ollama counts it
    prompt_eval_duration_ns: int
    eval_count: int
    eval_duration_ns: int
    context: list[int]
    max_batch: int = 1  # most sequences decoded together in one step with this one
    prompt_cached_count: int = 0  # of prompt_eval_count, tokens whose KV was reused
    stop_sequence: str = ""  # the request's stop sequence that ended it, if one did
    queued_ns: int = 0  # waiting in the engine's queue for a free slot


@dataclass(frozen=True)
class EngineLoad:
    """How busy an engine is, read at scrape time (metrics, GetLoad)."""

    slots_busy: int
    slots_total: int
    kv_cache_usage: float  # share of the KV cells holding tokens, 0 to 1


@dataclass
class ErrorEvent:
    error: Exception


Event = TokenEvent | DoneEvent | ErrorEvent


class Stream:
    """Async iterator over one sequence's events; cancel() stops its work.

    The engine thread appends to a deque and wakes the event loop only when the
    consumer is waiting, so a busy loop is not woken once per token; and a step's
    posts are woken together (`Wakes`), so the loop is woken once per step, not once
    per sequence in it.
    """

    def __init__(self) -> None:
        """Made on the event loop that consumes it."""
        self._events: deque[Event] = deque()
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._lock = threading.Lock()
        self.cancelled = False

    def post(self, event: Event, wakes: Wakes | None = None) -> None:
        """Called from the engine thread. With `wakes`, a waiting consumer is woken when
        the engine's step leaves its `with Wakes()` block; without, now."""
        with self._lock:
            self._events.append(event)
            waiter, self._waiter = self._waiter, None
        if waiter is None:
            return
        if wakes is None:
            self._loop.call_soon_threadsafe(_wake, [waiter])
        else:
            wakes.add(self._loop, waiter)

    def cancel(self) -> None:
        self.cancelled = True

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            with self._lock:
                waiter = None if self._events else self._loop.create_future()
                self._waiter = waiter
            if waiter is not None:
                await waiter
                continue
            while self._events:
                event = self._events.popleft()
                yield event
                if not isinstance(event, TokenEvent):
                    return


class Wakes:
    """The consumers one engine step has events for, woken with one call_soon_threadsafe
    per event loop: each is a write to the loop's self-pipe, and the loop thread it
    wakes preempts a llama.cpp thread mid-step on 2 cores (py-spy: the engine thread
    spent 3.8% of its time inside that write at one stream)."""

    def __init__(self) -> None:
        self._waiters: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}

    def add(self, loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[None]) -> None:
        self._waiters.setdefault(loop, []).append(waiter)

    def wake(self) -> None:
        for loop, waiters in self._waiters.items():
            loop.call_soon_threadsafe(_wake, waiters)
        self._waiters = {}

    def __enter__(self) -> Wakes:
        return self

    def __exit__(self, *_: object) -> None:
        # Also when the step raised: a consumer whose waiter a post took is woken only
        # here, and would otherwise never see the error the engine posts next.
        self.wake()


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


class EmbedJob:
    """Token lists to embed together; `result` resolves to one raw vector per list."""

    def __init__(self, inputs: list[list[int]]) -> None:
        self.inputs = inputs
        self._loop = asyncio.get_running_loop()
        self.result: asyncio.Future[list[list[float]]] = self._loop.create_future()

    def resolve(self, vectors: list[list[float]] | None, error: Exception | None = None) -> None:
        """Called from the engine thread."""

        def settle() -> None:
            if self.result.done():  # the caller was cancelled meanwhile
                return
            if error is not None:
                self.result.set_exception(error)
            else:
                self.result.set_result(vectors)

        self._loop.call_soon_threadsafe(settle)


@dataclass(frozen=True)
class LoadOptions:
    """Runner options fixed at load; a request with other values reloads the model."""

    num_ctx: int
    num_batch: int
    num_parallel: int
    num_thread: int
    # The model's projector GGUF (vision), loaded beside it; "" for none.
    projector: str = ""


class Engine(Protocol):
    n_ctx_train: int
    num_ctx: int  # the context per sequence actually in use
    options: LoadOptions
    size_bytes: int
    pending: int

    n_vocab: int

    def submit(self, request: CompletionRequest, stream: Stream) -> None: ...

    def tokenize(self, text: str) -> list[int]: ...

    def embed(self, job: EmbedJob) -> None: ...

    def load_status(self) -> EngineLoad: ...

    def close(self) -> None: ...

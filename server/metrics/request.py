"""One generation request's metrics, recorded once at its end (never per token)."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from server.engine.types import DoneEvent
from server.metrics import (
    CANCELLATIONS,
    E2E_LATENCY,
    GENERATION_TOKENS,
    PREFIX_CACHE_HITS,
    PREFIX_CACHE_QUERIES,
    PROMPT_TOKENS,
    QUEUE_TIME,
    REQUESTS,
    TIME_PER_OUTPUT_TOKEN,
    TIME_TO_FIRST_TOKEN,
)


@dataclass
class Call:
    """What the metrics interceptor knows of the RPC in flight; set per call in a context
    variable, so code that ends a request early can tell why (deadline, shutdown)."""

    deadline_passed: Callable[[], bool]
    draining: Callable[[], bool]
    loaded: bool = False  # this call loaded its model (the scheduler's observer says)

    def cancel_cause(self) -> str:
        if self.draining():
            return "shutdown"
        return "deadline" if self.deadline_passed() else "client"


CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("tokenwire_call", default=None)


@dataclass
class RequestMetrics:
    model: str
    t0_ns: int  # the request's arrival, perf_counter_ns
    first_token_ns: int = 0
    load_ns: int = 0
    ended: bool = field(default=False, repr=False)
    # TOKENWIRE_METRICS=false: nothing is recorded (what bench/observe compares against).
    off: bool = False

    def token(self) -> None:
        if not self.first_token_ns and not self.off:
            self.first_token_ns = time.perf_counter_ns()
            TIME_TO_FIRST_TOKEN.labels(self.model).observe((self.first_token_ns - self.t0_ns) / 1e9)

    def done(self, event: DoneEvent) -> None:
        self.ended = True
        if self.off:
            return
        m = self.model
        PROMPT_TOKENS.labels(m).inc(event.prompt_eval_count)
        GENERATION_TOKENS.labels(m).inc(event.eval_count)
        PREFIX_CACHE_QUERIES.labels(m).inc(event.prompt_eval_count)
        PREFIX_CACHE_HITS.labels(m).inc(event.prompt_cached_count)
        QUEUE_TIME.labels(m).observe((self.load_ns + event.queued_ns) / 1e9)
        if event.eval_count > 1:
            TIME_PER_OUTPUT_TOKEN.labels(m).observe(event.eval_duration_ns / 1e9 / (event.eval_count - 1))
        E2E_LATENCY.labels(m).observe((time.perf_counter_ns() - self.t0_ns) / 1e9)
        REQUESTS.labels(m, event.done_reason).inc()

    def stopped(self, error: BaseException) -> None:
        """The request ended without a DoneEvent: cancelled (CancelledError when the RPC
        was cancelled, GeneratorExit when its consumer left), or failed."""
        if self.ended or self.off:
            return
        self.ended = True
        if not isinstance(error, Exception):
            call = CALL.get()
            CANCELLATIONS.labels(self.model, call.cancel_cause() if call else "client").inc()
            REQUESTS.labels(self.model, "cancelled").inc()
        else:
            REQUESTS.labels(self.model, "error").inc()

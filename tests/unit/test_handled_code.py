"""The grpc_code a handled RPC is counted under (server/metrics/interceptor._code)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from server.metrics.interceptor import DEADLINE_SLACK_S, _code, _deadline_passed
from server.metrics.request import Call


class Context:
    """The one ServicerContext method _code reads."""

    def __init__(self, code: grpc.StatusCode | None = None):
        self._code = code

    def code(self) -> grpc.StatusCode | None:
        return self._code


@pytest.mark.parametrize("error", [asyncio.CancelledError(), GeneratorExit()])
@pytest.mark.parametrize(("passed", "expected"), [(True, "DEADLINE_EXCEEDED"), (False, "CANCELLED")])
def test_a_stream_ended_early_is_a_deadline_or_a_cancel(error, passed, expected):
    # GeneratorExit: the stream was closed at a yield, while gRPC wrote its last message
    # (where a CI run once counted no DEADLINE_EXCEEDED for a deadline).
    call = Call(lambda: passed, lambda: False)
    assert _code(Context(), error, call) == expected  # type: ignore[arg-type]


def test_a_finished_call_is_ok_or_its_status():
    call = Call(lambda: False, lambda: False)
    assert _code(Context(), None, call) == "OK"  # type: ignore[arg-type]
    assert _code(Context(grpc.StatusCode.NOT_FOUND), ValueError(), call) == "NOT_FOUND"  # type: ignore[arg-type]
    assert _code(Context(), ValueError(), call) == "UNKNOWN"  # type: ignore[arg-type]


class Remaining:
    def __init__(self, seconds: float | None):
        self.seconds = seconds

    def time_remaining(self) -> float | None:
        return self.seconds


@pytest.mark.parametrize(
    ("remaining", "passed"),
    [(None, False), (1.0, False), (DEADLINE_SLACK_S / 2, True), (0.0, True), (-0.1, True)],
)
def test_a_cancel_just_before_the_servers_deadline_is_the_deadline(remaining, passed):
    # The client's deadline fires first; its cancel reaches a busy server while the
    # server's own timer (set when the headers were read) still has a little left.
    assert _deadline_passed(Remaining(remaining))() is passed  # type: ignore[arg-type]

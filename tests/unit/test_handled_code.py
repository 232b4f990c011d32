"""The grpc_code a handled RPC is counted under (server/metrics/interceptor._code)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from server.metrics.interceptor import _code
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

"""Streamed responses. Leaving one early (break, close(), a cancelled task, or simply
dropping it) cancels the RPC, and the server stops the work in its engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

import grpc

from tokenwire_client._errors import from_rpc_error

T = TypeVar("T")


class Stream(Iterator[T], Generic[T]):
    """An iterator of responses; also a context manager that cancels on exit."""

    def __init__(self, call: Any, convert: Callable[[Any], T]):
        self._call = call
        self._convert = convert

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> T:
        try:
            pb = next(self._call)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        return self._convert(pb)

    def close(self) -> None:
        """Cancel the call; a no-op once it has ended."""
        self._call.cancel()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a `for ... break` drops the stream: stop the server's work
        self.close()


class AsyncStream(AsyncIterator[T], Generic[T]):
    """An async iterator of responses; also an async context manager that cancels on exit."""

    def __init__(self, call: Any, convert: Callable[[Any], T]):
        self._call = call
        self._convert = convert

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            pb = await self._call.read()
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        except asyncio.CancelledError:
            self._call.cancel()  # the task awaiting us was cancelled: so is the RPC
            raise
        if pb is grpc.aio.EOF:
            raise StopAsyncIteration
        return self._convert(pb)

    async def aclose(self) -> None:
        self._call.cancel()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._call.cancel()

    def __del__(self) -> None:
        self._call.cancel()


def only(stream: Stream[T]) -> T:
    """The one message a non-streamed call (stream=False) answers with."""
    with stream:
        last = None
        for last in stream:  # noqa: B007
            pass
    if last is None:
        raise from_rpc_error(_NoAnswer())
    return last


async def aonly(stream: AsyncStream[T]) -> T:
    async with stream:
        last = None
        async for last in stream:  # noqa: B007
            pass
    if last is None:
        raise from_rpc_error(_NoAnswer())
    return last


class _NoAnswer(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.INTERNAL

    def details(self) -> str:
        return "the server ended the call without an answer"

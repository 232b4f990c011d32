"""Errors a caller can act on, shaped like ollama-python's.

`ResponseError` carries `.error` (the server's message, Ollama's words), `.status_code`
(the HTTP status the REST shim would have answered, from the one table in
tokenwire_common.status) and `.code` (the grpc.StatusCode). Subclasses name the
situations callers handle differently.
"""

from __future__ import annotations

import grpc

from tokenwire_common.status import http_status

# ollama-python's text when nothing answers at the address.
CONNECTION_ERROR_MESSAGE = (
    "Failed to connect to tokenwire. Please check that the server is running and accessible"
)


class RequestError(Exception):
    """A request the client refuses before sending it (ollama.RequestError)."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class ResponseError(Exception):
    """The server answered with an error (ollama.ResponseError, plus the gRPC status)."""

    def __init__(self, error: str, status_code: int = -1, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN):
        super().__init__(error)
        self.error = error
        self.status_code = status_code
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.error!r}, status_code={self.status_code}, code={self.code.name})"


class InvalidArgumentError(ResponseError):
    """INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE: fix the request (400)."""


class UnauthenticatedError(ResponseError):
    """Missing or wrong credentials (401)."""


class PermissionDeniedError(ResponseError):
    """Credentials valid but not allowed (403)."""


class NotFoundError(ResponseError):
    """No such model or blob (404), e.g. "model 'x' not found"."""


class CancelledError(ResponseError):
    """The call was cancelled (499)."""


class QueueFullError(ResponseError):
    """RESOURCE_EXHAUSTED: the server's queue is full; retry later with backoff (503)."""


class UnavailableError(ResponseError, ConnectionError):
    """The server is unreachable or draining (503); also a ConnectionError, which is
    what ollama-python raises when nothing answers."""


class DeadlineExceededError(ResponseError, TimeoutError):
    """The call's timeout passed (504); also a TimeoutError."""


_BY_CODE: dict[grpc.StatusCode, type[ResponseError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.CANCELLED: CancelledError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: QueueFullError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def from_rpc_error(err: grpc.RpcError) -> ResponseError:
    """The typed error for a failed call (sync or asyncio)."""
    code: grpc.StatusCode = err.code()
    details: str = err.details() or ""
    if code == grpc.StatusCode.UNAVAILABLE and "connect" in details.lower():
        details = f"{CONNECTION_ERROR_MESSAGE} ({details})"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
        details = "Deadline Exceeded"
    cls = _BY_CODE.get(code, ResponseError)
    return cls(details or code.name.lower(), http_status(code), code)

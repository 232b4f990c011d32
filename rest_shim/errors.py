"""The one table from gRPC status to HTTP status, used by every route."""

from __future__ import annotations

import grpc

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.CANCELLED: 499,  # Ollama's "request canceled"
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 503,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def http_status(code: grpc.StatusCode) -> int:
    return HTTP_STATUS.get(code, 500)


def message(err: grpc.aio.AioRpcError) -> str:
    """The error text a client sees: the server's own words, except for statuses that
    gRPC itself raises, whose details vary with where the call was cut
    ("Stream removed (Deadline Exceeded)")."""
    if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "Deadline Exceeded"
    return err.details() or err.code().name.lower()


def www_authenticate(err: grpc.aio.AioRpcError) -> str | None:
    """The challenge a server that refused credentials sent (trailing metadata)."""
    if err.code() != grpc.StatusCode.UNAUTHENTICATED:
        return None
    for key, value in err.trailing_metadata() or ():
        if key == "www-authenticate" and isinstance(value, str):
            return value
    return None


class ShimError(Exception):
    """An error the shim itself detects (bad JSON, wrong field types) with its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

"""gRPC errors as the shim shows them; the status table itself is tokenwire_common.status."""

from __future__ import annotations

import grpc


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

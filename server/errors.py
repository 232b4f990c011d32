"""Typed domain errors, each carrying its gRPC status code.

Code anywhere in server/ raises these; the one interceptor (interceptors.py) turns
them into a gRPC status with a google.rpc.ErrorInfo detail. Messages are Ollama's
exact text (reference §1.14), because the shim shows them to Ollama clients as is.
"""

from __future__ import annotations

import grpc


class TokenwireError(Exception):
    code = grpc.StatusCode.INTERNAL
    reason = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.metadata = metadata or {}


class InvalidArgument(TokenwireError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"


class FailedPrecondition(TokenwireError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class NotFound(TokenwireError):
    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(TokenwireError):
    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class ResourceExhausted(TokenwireError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "QUEUE_FULL"


class Unavailable(TokenwireError):
    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


class Cancelled(TokenwireError):
    code = grpc.StatusCode.CANCELLED
    reason = "CANCELLED"


class DeadlineExceeded(TokenwireError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"


class Unimplemented(TokenwireError):
    code = grpc.StatusCode.UNIMPLEMENTED
    reason = "UNIMPLEMENTED"


class Internal(TokenwireError):
    code = grpc.StatusCode.INTERNAL
    reason = "INTERNAL"


class Unauthenticated(TokenwireError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class DataLoss(TokenwireError):
    """Bytes that do not match their digest (a corrupt or tampered download)."""

    code = grpc.StatusCode.DATA_LOSS
    reason = "DIGEST_MISMATCH"


class PermissionDenied(TokenwireError):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"

"""tokenwire_client: a typed gRPC client for tokenwire, shaped like ollama-python.

    import tokenwire_client as ollama          # was: import ollama
    client = ollama.Client(host="localhost:50051")
    for part in client.generate("smollm2:135m", "Why is the sky blue?", stream=True):
        print(part.response, end="")

The module-level functions (generate, chat, ...) use one default Client, whose address
is TOKENWIRE_GRPC_ADDR (else 127.0.0.1:50051), as ollama's use OLLAMA_HOST.
"""

from __future__ import annotations

from typing import Any

from tokenwire_client._async_client import AsyncClient
from tokenwire_client._client import Client
from tokenwire_client._errors import (
    CancelledError,
    DeadlineExceededError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    QueueFullError,
    RequestError,
    ResponseError,
    UnauthenticatedError,
    UnavailableError,
)
from tokenwire_client._stream import AsyncStream, Stream
from tokenwire_client._types import (
    ChatResponse,
    EmbeddingsResponse,
    EmbedResponse,
    GenerateResponse,
    Image,
    ListResponse,
    Message,
    ModelDetails,
    Options,
    ProcessResponse,
    ProgressResponse,
    ShowResponse,
    StatusResponse,
    Tool,
    VersionResponse,
)
from tokenwire_common.structs import from_struct, to_struct

__all__ = [
    "AsyncClient",
    "AsyncStream",
    "CancelledError",
    "ChatResponse",
    "Client",
    "DeadlineExceededError",
    "EmbedResponse",
    "EmbeddingsResponse",
    "GenerateResponse",
    "Image",
    "InvalidArgumentError",
    "ListResponse",
    "Message",
    "ModelDetails",
    "NotFoundError",
    "Options",
    "PermissionDeniedError",
    "ProcessResponse",
    "ProgressResponse",
    "QueueFullError",
    "RequestError",
    "ResponseError",
    "ShowResponse",
    "StatusResponse",
    "Stream",
    "Tool",
    "UnauthenticatedError",
    "UnavailableError",
    "VersionResponse",
    "from_struct",
    "to_struct",
]

_METHODS = frozenset(
    "generate chat embed embeddings pull push create create_blob delete list copy show ps version".split()
)
_default: Client | None = None


def __getattr__(name: str) -> Any:
    """`tokenwire_client.generate(...)` and friends, on a default Client made on first use."""
    global _default
    if name in _METHODS:
        if _default is None:
            _default = Client()
        return getattr(_default, name)
    raise AttributeError(f"module 'tokenwire_client' has no attribute {name!r}")

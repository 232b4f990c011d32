"""Facts of the gRPC wire that the server, the shim and the client share."""

from __future__ import annotations

# Where the server listens and the shim and clients call, unless TOKENWIRE_GRPC_ADDR says.
DEFAULT_GRPC_ADDR = "127.0.0.1:50051"

# Generous limits: prompts with images and embedding batches exceed gRPC's 4 MiB
# default, and the same limit must be raised on both ends of a channel.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MESSAGE_SIZE_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
)

# The metadata header every call about a model carries (the shim's and every client's),
# so an L7 proxy can hash on it and keep each model warm on one replica (deploy/).
MODEL_HEADER = "x-tokenwire-model"


def model_header(model: str) -> tuple[tuple[str, str], ...]:
    """The header for `model`; none when there is no model or it could not be sent
    (gRPC metadata values are printable ASCII; Ollama's names always are)."""
    if model and all(" " < c <= "~" for c in model):
        return ((MODEL_HEADER, model),)
    return ()


def request_model(request: object) -> str:
    """The model a request is about: its `model`, or Copy's `source`."""
    for field in ("model", "source"):
        value = getattr(request, field, None)
        if isinstance(value, str):
            return value
    return ""

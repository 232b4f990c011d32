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

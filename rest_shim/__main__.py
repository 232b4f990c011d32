"""python -m rest_shim: serve the Ollama-compatible REST API with uvicorn."""

from __future__ import annotations

import logging
import os
import sys

# Before gRPC starts (rest_shim.app imports it): the shim's channel reads its socket on
# gRPC's classic polling path instead of handing every frame to an EventEngine thread
# first. One thread hop fewer per streamed token: with grpcio 1.85.1 (pinned) the shim
# then spends about 0.3 ms of CPU per token instead of 0.43 when tokens arrive 8 ms
# apart, measured here with a stub server. An operator's own GRPC_EXPERIMENTS wins.
os.environ.setdefault("GRPC_EXPERIMENTS", "-event_engine_client")
# ring_hash on a request header (gRFC A76, TOKENWIRE_GRPC_LB=ring_hash) is behind this
# switch in grpcio 1.85: without it every call fails with "hash attribute not present".
os.environ.setdefault("GRPC_EXPERIMENTAL_RING_HASH_SET_REQUEST_HASH_KEY", "true")

import uvloop

from rest_shim.app import create_app
from rest_shim.listener import listener
from rest_shim.settings import Settings
from tokenwire_common import tracing
from tokenwire_common.settings import SettingError
from tokenwire_common.tracing import configure_logging


def main() -> None:
    try:
        settings = Settings.from_env()
    except SettingError as e:
        sys.exit(f"tokenwire shim: {e}")
    configure_logging(settings.log_json, logging.WARNING)
    tracing.configure("tokenwire-shim")
    server, sock = listener(settings, create_app(settings))
    # Tests bind port 0 and read the real port from this line.
    print(f"tokenwire shim listening on {settings.host}:{sock.getsockname()[1]}", flush=True)
    try:
        uvloop.run(server.serve(sockets=[sock]))
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()

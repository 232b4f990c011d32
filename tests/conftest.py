"""Session fixtures: one real server (real model, real engine) and one shim, on port 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.procs import Proc, start_rest_server, start_server, start_shim

MODEL = "smollm2:135m"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def grpc_socket(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("socket") / "grpc.sock"


@pytest.fixture(scope="session")
def server(models_dir: Path, grpc_socket: Path) -> Iterator[Proc]:
    proc = start_server(models_dir, TOKENWIRE_GRPC_SOCKET=str(grpc_socket))
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def shim(server: Proc, grpc_socket: Path) -> Iterator[Proc]:
    """Joined to the server as `make serve` joins them: over the Unix socket."""
    proc = start_shim(f"unix:{grpc_socket}")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def inprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """A server that serves the REST API itself (TOKENWIRE_REST_INPROCESS), as `make
    serve` runs it; tests/e2e/inprocess/ points the shim's REST tests at it."""
    proc = start_rest_server(tmp_path_factory.mktemp("inprocess"))
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def channel(server: Proc) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.fixture(scope="session")
def shim_url(shim: Proc) -> str:
    return f"http://{shim.address}"


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    """The gemma3-270m GGUF that set-up fetched (a base model without a chat template)."""
    from server.bootstrap import GEMMA3, cached_path
    from server.settings import Settings

    path = cached_path(Settings.from_env().cache_dir, GEMMA3)
    assert path.is_file(), f"{path} missing: run `make setup`"
    return path


def store_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under the store with its size and mtime: to prove nothing changed."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }

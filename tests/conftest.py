"""Session fixtures: one real server (real model, real engine) and one shim, on port 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.procs import Proc, start_server, start_shim

MODEL = "smollm2:135m"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def server(models_dir: Path) -> Iterator[Proc]:
    proc = start_server(models_dir)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def shim(server: Proc) -> Iterator[Proc]:
    proc = start_shim(server.address)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def channel(server: Proc) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.fixture(scope="session")
def shim_url(shim: Proc) -> str:
    return f"http://{shim.address}"

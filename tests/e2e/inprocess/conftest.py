"""REST tests run again against a server that serves the REST API itself
(TOKENWIRE_REST_INPROCESS, as `make serve` runs it), instead of through a shim process:
every module here imports a shim test module's tests and fixtures, and `shim_url` is
the in-process server's."""

from __future__ import annotations

import pytest

from tests.procs import Proc, rest_address


@pytest.fixture(scope="session")
def shim_url(inprocess: Proc) -> str:
    return f"http://{rest_address(inprocess)}"

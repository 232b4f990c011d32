"""The official `anthropic` package's tests (test_anthropic.py) against a server that
serves the REST API itself (TOKENWIRE_REST_INPROCESS)."""

from __future__ import annotations

from tests.e2e.test_anthropic import *  # noqa: F403 (its tests and its `client` fixture, run here too)

"""The official `openai` package's tests (test_openai.py) against a server that serves
the REST API itself (TOKENWIRE_REST_INPROCESS): the same answers as through the shim."""

from __future__ import annotations

from tests.e2e.test_openai import *  # noqa: F403 (its tests and its `client` fixture, run here too)

"""Every case of clients/conformance/cases.json through tokenwire_client, live."""

from __future__ import annotations

import secrets
from typing import Any

import conformance
import pytest

import tokenwire_client
from tests.procs import Proc

SPEC = conformance.load()


@pytest.fixture(scope="module")
def client(conformance_server: Proc) -> Any:
    with tokenwire_client.Client(host=conformance_server.address) as c:
        yield c


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_conformance_case(client: tokenwire_client.Client, case: dict[str, Any]) -> None:
    names = {**SPEC["vars"], "run": secrets.token_hex(4)}
    for step in case["steps"]:
        conformance.run_step(client, step, names)


def test_the_runner_rejects_a_wrong_answer() -> None:
    """The runner is not vacuous: a property that does not hold is reported."""
    doc = {"models": [{"model": "a:latest"}], "done_reason": "stop", "eval_count": 9}
    assert conformance.holds(doc, {"at": "/eval_count", "at_most": 8}) is not None
    assert conformance.holds(doc, {"at": "/done_reason", "one_of": ["length"]}) is not None
    assert (
        conformance.holds(doc, {"at": "/models", "has_item": [{"at": "/model", "equals": "b"}]}) is not None
    )
    assert conformance.holds(doc, {"at": "/missing", "equals": 1}) == "/missing: missing"
    assert conformance.holds(doc, {"at": "/models/0/model", "equals": "a:latest"}) is None

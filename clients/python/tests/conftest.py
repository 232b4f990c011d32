"""The client suite's server: the real one, with one slot (clients/conformance/README.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.procs import Proc, start_server


@pytest.fixture(scope="session")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_server(tmp_path_factory.mktemp("conformance-models"), OLLAMA_NUM_PARALLEL="1")
    yield proc
    proc.stop()


_RAN: dict[str, int] = {"passed": 0, "failed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "test_conformance_case" in report.nodeid:
        _RAN["passed" if report.passed else "failed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = _RAN["passed"] + _RAN["failed"]
    if total:
        terminalreporter.write_line(
            f"conformance (clients/conformance/cases.json, Python): {total} cases run, "
            f"{_RAN['passed']} passed, {_RAN['failed']} failed"
        )

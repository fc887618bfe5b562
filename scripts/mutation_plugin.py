"""pytest plugin of scripts/mutate.py: per-test coverage contexts and durations, for choosing each mutant's tests.

Loaded with `-p scripts.mutation_plugin` under `coverage run`: each test's setup, call and teardown are recorded
under its node id, so the mutation runner later runs, for a mutated line, only the tests that executed it.
The durations go to HMS_MUTATION_DURATIONS (JSON), so the fastest tests run first.
"""

from __future__ import annotations

import json
import os

import pytest

_durations: dict[str, float] = {}


def _switch(context: str) -> None:
    try:
        import coverage
    except ImportError:  # the plugin is harmless without coverage: it only records durations
        return
    current = coverage.Coverage.current()
    if current is not None:
        current.switch_context(context)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _switch(nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    _switch("")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("HMS_MUTATION_DURATIONS")
    if path:
        with open(path, "w") as out:
            json.dump(_durations, out)

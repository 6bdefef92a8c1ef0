"""Rules of the whole suite. Under CI (CI set) a skipped test fails the run: every test runs
against the real thing there, and a skip would hide a missing tool or engine."""

from __future__ import annotations

import os

import pytest

SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SKIPPED and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"CI: {len(SKIPPED)} skipped test(s) fail the run: "
                                f"{', '.join(SKIPPED[:10])}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

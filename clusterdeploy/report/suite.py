"""The run's suite: what ran where, how it ended, and for a Go suite each test (failing
ones first, with their output)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .gotest import SuiteResult, TestResult, results, suite_events
from .runfolder import RunFolder, micros


@dataclass
class SuiteView:
    ran: bool = False
    container: str = ""
    command: list[str] = field(default_factory=list)
    exit_code: int | None = None
    interrupted: bool = False
    started: int | None = None
    finished: int | None = None
    output: str = ""
    go: SuiteResult | None = None  # when the output holds Go tests

    @property
    def status(self) -> str:
        if not self.ran:
            return "not run"
        if self.interrupted:
            return "interrupted"
        if self.exit_code is None:
            return {"pass": "passed", "fail": "failed"}.get(self.go.status if self.go else "",
                                                            "ended (exit code not recorded)")
        return "passed" if self.exit_code == 0 else "failed"

    def failing_first(self) -> list[TestResult]:
        """Failed tests (innermost first: the subtest that failed before its parent), then
        the rest in the order they ran."""
        if self.go is None:
            return []
        failed = [t for t in self.go.tests if t.status == "fail"]
        failed.sort(key=lambda t: -t.depth)
        return failed + [t for t in self.go.tests if t.status != "fail"]


def read_suite(folder: RunFolder) -> SuiteView:
    output = folder.text("suite.log")
    record = folder.json("suite.json", {})
    if output is None and not record:
        return SuiteView()
    view = SuiteView(ran=True, output=output or "")
    view.container = str(record.get("container", ""))
    view.command = [str(a) for a in record.get("command") or []]
    code = record.get("exit_code")
    view.exit_code = code if isinstance(code, int) else None
    view.interrupted = bool(record.get("interrupted", False))
    view.started, view.finished = micros(record.get("started")), micros(record.get("finished"))
    times = [t if isinstance(t, str) else None for t in record.get("line_times") or []]
    go = results(suite_events(view.output, times, view.exit_code))
    view.go = go if go.tests else None
    return view

"""A Go test suite's output as `go test -json` events, and the tests it ran.

The shipped suite runs as `cluster.test -test.v`, so its transcript is the verbose text; a
user's suite may print `go test -json` (or `test2json`) events instead. Both end up as the
same events: `from_verbose` is a port of the rules of Go 1.23's `cmd/internal/test2json`
(what `go tool test2json` applies to `-test.v` output), held to the real tool's output by the
unit tests (`tests/fixtures/gotest/`), and `from_json` reads the events as they are.

Differences from the tool, on purpose: lines are never split (test2json cuts lines over 4 KB
and benchmark lines into parts), and `Elapsed` is always given (test2json gives it only with
`-t`). Times come from the transcript (when each line arrived), not from the clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MARKER = "\x16"  # ^V: `-test.v=test2json` puts it before framing lines
UPDATES = ("=== RUN   ", "=== PAUSE ", "=== CONT  ", "=== NAME  ", "=== PASS  ", "=== FAIL  ",
           "=== SKIP  ")
REPORTS = ("--- PASS: ", "--- FAIL: ", "--- SKIP: ", "--- BENCH: ")
FINISHED = ("pass", "fail", "skip")


@dataclass(frozen=True)
class TestEvent:
    """One event of `go test -json` (field names as Go writes them in `to_json`)."""

    action: str
    package: str = ""
    test: str = ""
    output: str | None = None
    elapsed: float | None = None
    time: str | None = None  # RFC 3339

    def to_json(self) -> dict[str, Any]:
        event: dict[str, Any] = {}
        if self.time is not None:
            event["Time"] = self.time
        event["Action"] = self.action
        if self.package:
            event["Package"] = self.package
        if self.test:
            event["Test"] = self.test
        if self.elapsed is not None:
            event["Elapsed"] = self.elapsed
        if self.output is not None:
            event["Output"] = self.output
        return event


@dataclass
class _Report:
    action: str
    test: str
    elapsed: float | None


@dataclass
class _Converter:
    package: str
    events: list[TestEvent] = field(default_factory=list)
    test_name: str = ""
    report: list[_Report] = field(default_factory=list)
    result: str = ""
    need_marker: bool = False
    time: str | None = None
    first_time: str | None = None

    def emit(self, action: str, test: str = "", output: str | None = None,
             elapsed: float | None = None) -> None:
        self.events.append(TestEvent(action, self.package, test or self.test_name, output,
                                     elapsed, self.time))

    def out(self, line: str) -> None:
        self.emit("output", output=line)

    def flush_report(self, depth: int) -> None:
        self.test_name = ""
        while len(self.report) > depth:
            pending = self.report.pop()
            self.emit(pending.action, pending.test, elapsed=pending.elapsed)

    def line(self, line: str) -> None:
        if not line:
            return
        saw_marker = False
        if self.need_marker and not line.startswith(MARKER):
            self.out(line)
            return
        if line.startswith(MARKER):
            saw_marker, line = True, line[1:]
        trim = line.removesuffix("\n").removesuffix("\r")
        if trim == "=== NAME":
            line, trim = "=== NAME  \n", "=== NAME  "
        if trim in ("PASS", "FAIL") or trim.startswith("FAIL\t"):
            self.flush_report(0)
            self.test_name = ""
            self.need_marker = saw_marker
            self.out(line)
            self.result = "pass" if trim == "PASS" else "fail"
            return
        if line.startswith("?   \t") and trim.endswith("\t[no test files]") and not self.report:
            self.result = "skip"
        original, indent = line, 0
        framing = line.startswith(UPDATES)
        if not framing:
            while line.startswith("    "):
                line, indent = line[4:], indent + 1
            framing = line.startswith(REPORTS)
            if not framing:
                if 0 < indent <= len(self.report):
                    self.test_name = self.report[indent - 1].test
                self.out(original)
                return
            split = line.index(":") + 1
        else:
            split = len(UPDATES[0])
        action = line[4:split].strip().removesuffix(":").lower()
        name = line[split:].strip()
        if line.startswith("-"):  # a PASS, FAIL or SKIP report
            elapsed = None
            if " (" in name:
                at = name.index(" (")
                if name.endswith("s)"):
                    try:
                        elapsed = float(name[at + 2:-2])
                    except ValueError:
                        elapsed = None
                name = name[:at]
            if len(self.report) < indent:
                self.out(original)
                return
            self.need_marker = saw_marker
            self.flush_report(indent)
            self.test_name = name
            self.report.append(_Report(action, name, elapsed))
            self.out(original)
            return
        self.need_marker = saw_marker
        self.flush_report(0)
        self.test_name = name
        if action == "name":
            return
        if action == "pause":
            self.out(original)
        self.emit(action)
        if action != "pause":
            self.out(original)

    def close(self, exit_code: int | None) -> list[TestEvent]:
        if exit_code is not None:
            self.result = "fail" if exit_code else ("skip" if self.result == "skip" else "pass")
        if self.result:
            self.test_name = ""
            self.emit(self.result, elapsed=_seconds_between(self.first_time, self.time))
        return self.events


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if start is None or end is None:
        return None
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return round(delta.total_seconds(), 3)


def from_verbose(lines: Sequence[str], package: str = "", times: Sequence[str | None] = (),
                 exit_code: int | None = None) -> list[TestEvent]:
    """`go tool test2json -p PACKAGE` over `-test.v` output (lines with their newlines);
    `times[i]` is when line i arrived, `exit_code` the test binary's (None: unknown)."""
    converter = _Converter(package)
    converter.time = converter.first_time = times[0] if times else None
    converter.emit("start")
    for i, text in enumerate(lines):
        if i < len(times):
            converter.time = times[i]
        converter.line(text)
    return converter.close(exit_code)


def from_json(lines: Sequence[str]) -> list[TestEvent] | None:
    """The events of `go test -json` output; None when the output holds none. Lines that are
    not events (a build's messages) become output of no test."""
    events: list[TestEvent] = []
    found = False
    for text in lines:
        try:
            raw = json.loads(text)
        except ValueError:
            raw = None
        if isinstance(raw, dict) and isinstance(raw.get("Action"), str):
            found = True
            elapsed = raw.get("Elapsed")
            events.append(TestEvent(
                raw["Action"], str(raw.get("Package") or ""), str(raw.get("Test") or ""),
                raw.get("Output") if isinstance(raw.get("Output"), str) else None,
                float(elapsed) if isinstance(elapsed, int | float) else None,
                raw.get("Time") if isinstance(raw.get("Time"), str) else None))
        elif text.strip():
            events.append(TestEvent("output", output=text))
    return events if found else None


def suite_events(text: str, times: Sequence[str | None] = (), exit_code: int | None = None,
                 package: str = "") -> list[TestEvent]:
    """A transcript's events, whichever form it has."""
    lines = text.splitlines(keepends=True)
    return from_json(lines) or from_verbose(lines, package, times, exit_code)


@dataclass
class TestResult:
    """One test (or subtest) as the events tell it."""

    name: str
    status: str = "run"  # pass | fail | skip | run (started, never finished)
    elapsed: float | None = None
    output: list[str] = field(default_factory=list)
    started: str | None = None
    ended: str | None = None

    @property
    def depth(self) -> int:
        return self.name.count("/")


@dataclass
class SuiteResult:
    tests: list[TestResult]
    status: str  # the package's: pass | fail | skip, or "" when the output never said
    elapsed: float | None
    output: list[str]  # lines of no test (the binary's own messages, PASS/FAIL)

    def count(self, status: str) -> int:
        return sum(1 for t in self.tests if t.status == status)


FRAMING = re.compile(r"^\s*=== (RUN|PAUSE|CONT|NAME)\b")


def results(events: Sequence[TestEvent]) -> SuiteResult:
    """Each test in the order it started, with its status, duration and output."""
    tests: dict[str, TestResult] = {}
    status, elapsed, output = "", None, []
    for event in events:
        if not event.test:
            if event.action == "output" and event.output is not None:
                output.append(event.output)
            elif event.action in FINISHED:
                status, elapsed = event.action, event.elapsed
            continue
        test = tests.setdefault(event.test, TestResult(event.test, started=event.time))
        if event.action == "output" and event.output is not None:
            if not FRAMING.match(event.output):
                test.output.append(event.output)
        elif event.action in FINISHED:
            test.status, test.elapsed, test.ended = event.action, event.elapsed, event.time
    return SuiteResult(list(tests.values()), status, elapsed, output)

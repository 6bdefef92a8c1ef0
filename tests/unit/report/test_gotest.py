"""The Go suite's output as `go test -json` events: held to the real `go tool test2json`
(tests/fixtures/gotest/README.md says how each file was captured)."""

from __future__ import annotations

import json

import pytest
from unitlib import FIXTURES

from clusterdeploy.report.gotest import from_json, from_verbose, results, suite_events

GOTEST = FIXTURES / "gotest"


def lines(name: str) -> list[str]:
    return (GOTEST / f"{name}.txt").read_text().splitlines(keepends=True)


def reference(name: str) -> list[dict]:
    """test2json's events without what comes from its clock."""
    events = [json.loads(line) for line in (GOTEST / f"{name}.test2json.jsonl").open()]
    for event in events:
        event.pop("Time", None)
    events[-1].pop("Elapsed", None)  # the package's total: the tool's wall clock
    return events


@pytest.mark.parametrize("name", ["pass", "fail", "skip"])
def test_the_events_are_test2json_s_for_real_output(name):
    assert [e.to_json() for e in from_verbose(lines(name), "clustertest")] == reference(name)


def test_a_failing_run_of_the_shipped_suite():
    suite = results(from_verbose(lines("fail"), "clustertest"))
    assert suite.status == "fail"
    failed = {t.name: t for t in suite.tests if t.status == "fail"}
    assert sorted(failed) == [
        "TestPeersAllReachable", "TestPeersAllReachable/node1", "TestPeersAllReachable/node2",
        "TestPeersAllReachable/node3", "TestPeersAllReachable/node4",
        "TestPeersAllReachable/node5", "TestPing", "TestPing/node3",
        "TestReplicatedPut", "TestStatusListsAllReplicas", "TestStatusListsAllReplicas/node3"]
    assert failed["TestPing/node3"].elapsed == 2.13
    output = "".join(failed["TestPing/node3"].output)
    assert "cluster_test.go:119: GET /ping: still failing after 9 attempts" in output
    assert "=== " not in output  # framing lines are left out of a test's output
    assert suite.count("pass") == 8
    assert [t.name for t in suite.tests][:2] == ["TestPing", "TestPing/node1"]


def test_skips_and_output_of_a_test():
    suite = results(from_verbose(lines("skip"), "demo"))
    status = {t.name: t.status for t in suite.tests}
    assert status == {"TestPasses": "pass", "TestSkipped": "skip", "TestFails": "fail",
                      "TestTable": "pass", "TestTable/a": "pass", "TestTable/b": "skip"}
    fails = next(t for t in suite.tests if t.name == "TestFails")
    assert "stdout from the test\n" in fails.output


def test_line_times_place_each_test():
    text = lines("fail")
    times = [f"2026-11-28T08:00:{i // 10:02d}.{i % 10}00000000Z" for i in range(len(text))]
    suite = results(from_verbose(text, "clustertest", times))
    ping = next(t for t in suite.tests if t.name == "TestPing/node3")
    assert ping.started == times[text.index("=== RUN   TestPing/node3\n")]
    report = text.index("    --- FAIL: TestPing/node3 (2.13s)\n")
    # a subtest's result is known at the next line, as test2json reports it
    assert times[report] <= ping.ended <= times[report + 1]
    assert suite.elapsed == round((len(text) - 1) / 10, 3)


def test_exit_code_decides_when_the_output_never_says():
    crashed = ["=== RUN   TestPing\n", "panic: boom\n"]
    suite = results(from_verbose(crashed, exit_code=2))
    assert suite.status == "fail"
    assert suite.tests[0].status == "run"  # started, never finished
    assert results(from_verbose(["=== RUN   TestA\n", "--- PASS: TestA (0.01s)\n"],
                                exit_code=0)).status == "pass"


def test_go_test_json_output_is_read_as_it_is():
    real = (GOTEST / "fail.test2json.jsonl").read_text()
    events = suite_events("go: downloading nothing\n" + real)
    assert events == from_json(("go: downloading nothing\n" + real).splitlines(keepends=True))
    assert events[0].action == "output" and events[0].test == ""
    suite = results(events)
    assert suite.status == "fail"
    node3 = next(t for t in suite.tests if t.name == "TestPing/node3")
    assert node3.started is not None and node3.elapsed == 2.13


def test_plain_output_is_no_go_suite():
    assert results(suite_events("all 5 nodes answered\n", exit_code=0)).tests == []

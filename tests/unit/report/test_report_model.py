"""The report's data from a run folder (tests/synthetic_run.py): lanes, fault windows, the
suite, the logs, and what the page says happened."""

from __future__ import annotations

import json

import pytest

from clusterdeploy.report.model import build_report
from clusterdeploy.report.runfolder import micros
from tests.synthetic_run import make_run_folder, stamp


@pytest.fixture
def run_dir(tmp_path):
    return make_run_folder(tmp_path / "20261128T080200Z", nodes=5, lines=500, crashed=3)


def test_every_container_has_a_lane_in_order(run_dir):
    report = build_report(run_dir)
    assert [lane.container for lane in report.lanes] == [
        "syn_node1", "syn_node2", "syn_node3", "syn_node4", "syn_node5", "syn_tester"]
    assert [row.name for row in report.rows] == [lane.container for lane in report.lanes]


def test_a_crashed_node_shows_its_exit_code_when_it_died(run_dir):
    lane = build_report(run_dir).lanes[2]
    crash = [m for m in lane.marks if m.kind == "crash"]
    assert [(m.t, m.label) for m in crash] == [(micros(stamp(72.0)), "exit 2")]
    assert lane.ending == "exit code 2"
    assert [s.state for s in lane.segments] == ["created", "running", "healthy", "exited"]
    assert lane.segments[-1].start == micros(stamp(72.0))


def test_a_graceful_stop_is_no_crash(run_dir):
    lane = build_report(run_dir).lanes[0]
    assert [m.kind for m in lane.marks] == ["create", "start", "healthy", "kill", "die"]
    assert lane.ending == "exited 0"


def test_fault_windows_from_the_injector_s_lines(run_dir):
    report = build_report(run_dir)
    partition, pause = report.faults
    assert (partition.fault, partition.targets, partition.containers, partition.open) == (
        "partition", ("node1", "node2"), ("syn_node1", "syn_node2"), False)
    assert (partition.start, partition.end) == (micros(stamp(36.0)), micros(stamp(54.0)))
    assert partition.detail == "mode=drop, seed=42"
    assert (pause.containers, pause.open, pause.end) == (("syn_node5",), True, report.t1)


def test_the_suite_failing_tests_first(run_dir):
    suite = build_report(run_dir).suite
    assert (suite.status, suite.exit_code) == ("failed", 1)
    ordered = suite.failing_first()
    assert ordered[0].name.count("/") == 1 and ordered[0].status == "fail"
    assert {t.status for t in ordered[:11]} == {"fail"}
    assert {t.status for t in ordered[11:]} == {"pass"}


def test_what_happened(run_dir):
    lines = build_report(run_dir).headline()
    assert lines[0].startswith("Suite failed (exit 1): 4 tests (15 subtests), failing: "
                               "TestPing/node3, ")
    assert lines[1] == "6 containers at collection: 1 exit code 2, 5 exited 0"
    assert "syn_node3 crashed (exit code 2) at 2026-11-28 08:01:12.000 UTC" in lines
    assert "2 faults injected (partition, pause)" in lines
    # 500 lines, the crash's, 3 of the fault injector; one error in 997 lines, and the crash;
    # the sources: five nodes and the fault injector (the tester logged nothing)
    assert lines[-1] == "504 log lines from 6 sources, 2 marked as errors"


def test_logs_as_columns(run_dir):
    logs = build_report(run_dir).logs
    assert sorted(logs.containers) == ["nemesis"] + [f"syn_node{i}" for i in range(1, 6)]
    needle = logs.m.index(next(m for m in logs.m if m.startswith("needle-in-the-logs")))
    assert logs.containers[logs.c[needle]].startswith("syn_node")
    assert "detail=line 250 of node" in logs.m[needle]
    crash = next(i for i, m in enumerate(logs.m) if m == "SIGABRT: abort")
    assert logs.l[crash] == 3  # no level: guessed from the text
    assert logs.t == sorted(logs.t)


def test_without_events_docker_inspect_fills_in_and_a_note_says_so(run_dir):
    (run_dir / "events.json").unlink()
    events = json.loads((run_dir / "summary.json").read_text())
    assert events["syn_node3"]["exit_code"] == 2
    report = build_report(run_dir)
    crash = [m for m in report.lanes[2].marks if m.kind == "crash"]
    assert [(m.label, m.inferred) for m in crash] == [("exit 2", True)]
    assert report.events_complete is None


def test_engine_that_dropped_events_is_noted(run_dir):
    events = json.loads((run_dir / "events.json").read_text())
    events.update(complete=False, events=[])
    (run_dir / "events.json").write_text(json.dumps(events))
    report = build_report(run_dir)
    assert any("Docker holds 256" in note for note in report.notes)
    assert [m.kind for m in report.lanes[2].marks] == ["create", "start", "crash"]


def test_a_folder_with_only_some_files_still_reports(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"old_node1": {
        "member": "node1", "status": "exited", "exit_code": 137, "oom_killed": True,
        "started_at": "2026-11-28T08:00:00Z", "finished_at": "2026-11-28T08:00:30Z"}}))
    (tmp_path / "cluster.log").write_text('{"container": "old_node1", "message": "hi"}\nnot json\n')
    report = build_report(tmp_path)
    assert [lane.container for lane in report.lanes] == ["old_node1"]
    assert report.lanes[0].ending == "OOM-killed (exit 137)"
    assert report.rows[0].state == "OOM-killed (137)"
    assert not report.suite.ran
    assert report.headline()[1:3] == [
        "1 container at collection: 1 OOM-killed (exit 137)",
        "old_node1 was OOM-killed at 2026-11-28 08:00:30.000 UTC"]
    assert any("1 lines are not JSON" in note for note in report.notes)

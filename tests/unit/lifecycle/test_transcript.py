"""The suite's transcript: suite.log as the terminal showed it, suite.json with the command,
the exit code and when each line arrived."""

from __future__ import annotations

import json

from clusterdeploy.lifecycle.transcript import Transcript


def test_each_line_gets_the_time_its_end_arrived(tmp_path, monkeypatch):
    clock = iter([100.0, 101.0, 102.5, 103.0, 104.0])
    monkeypatch.setattr("clusterdeploy.lifecycle.transcript.time.time", lambda: next(clock))
    transcript = Transcript()
    transcript.begin("ci_tester", ["/root/service/cluster.test", "-test.v"])  # 100.0
    transcript.append(b"=== RUN   TestPing\n--- PA")  # 101.0
    transcript.append(b"SS: TestPing (0.00s)\nPASS\n")  # 102.5
    transcript.append(b"no newline at the end")  # 103.0
    transcript.end(0)  # 104.0
    transcript.write(tmp_path)
    assert (tmp_path / "suite.log").read_bytes() == (
        b"=== RUN   TestPing\n--- PASS: TestPing (0.00s)\nPASS\nno newline at the end")
    record = json.loads((tmp_path / "suite.json").read_text())
    assert record == {
        "container": "ci_tester", "command": ["/root/service/cluster.test", "-test.v"],
        "started": "1970-01-01T00:01:40.000000000Z", "finished": "1970-01-01T00:01:44.000000000Z",
        "exit_code": 0, "interrupted": False,
        "line_times": ["1970-01-01T00:01:41.000000000Z", "1970-01-01T00:01:42.500000000Z",
                       "1970-01-01T00:01:42.500000000Z", "1970-01-01T00:01:43.000000000Z"]}
    assert (tmp_path / "suite.json").stat().st_mode & 0o777 == 0o600


def test_an_interrupted_suite_says_so(tmp_path):
    transcript = Transcript()
    assert not transcript  # nothing ran: the runner writes no suite files
    transcript.begin("ci_tester", ["suite"])
    transcript.append(b"half\n")
    transcript.write(tmp_path)
    record = json.loads((tmp_path / "suite.json").read_text())
    assert (record["exit_code"], record["interrupted"], record["finished"]) == (None, True, None)

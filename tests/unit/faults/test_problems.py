"""Bad faults and the exact line a person reads, from the spec and from the command line; the
command line changes nothing (it fails before it connects to any Docker host)."""

from __future__ import annotations

import pytest
from unitlib import base_doc, write_spec

from clusterdeploy.cli import main

SPEC_CASES = [
    ({"fault": "partition", "groups": [["node1", "node9"], ["node3"]]},
     "faults.schedule[0].groups[0][1]: unknown node 'node9' (use one of node1, node2, node3, "
     "node4, node5, tester)"),
    ({"fault": "partition", "groups": [["node1"], []]},
     "faults.schedule[0].groups[1]: must not be empty (add at least one entry)"),
    ({"fault": "partition", "groups": [["node1", "node2"], ["node2", "node3"]]},
     "faults.schedule[0].groups[1]: node2 is in group 1 and in group 2 (put each node in one "
     "group)"),
    ({"fault": "loss", "nodes": "node2", "percent": 150},
     "faults.schedule[0].percent: 150 is out of range (use a number above 0 and at most 100)"),
    ({"fault": "loss", "nodes": "node2", "percent": 0},
     "faults.schedule[0].percent: 0 is out of range (use a number above 0 and at most 100)"),
    ({"fault": "partition", "groups": [[f"node{i}" for i in range(1, 6)]]},
     "faults.schedule[0].groups: the groups cut no link: every node is in one group (name at "
     "least two groups, or leave some nodes out: they form one more group)"),
    ({"fault": "partition", "from": "node1", "to": ["node1", "node2"]},
     "faults.schedule[0].to: node1 cannot be on both sides (name each node in from or in to)"),
    ({"fault": "partition", "groups": [["node1"]], "shape": "halves"},
     "faults.schedule[0]: a partition takes one of groups, shape or from/to (got groups and "
     "shape) (e.g. groups: [[node1, node2], [node3]], shape: majority-ring, or from: node1, "
     "to: node2)"),
    ({"fault": "pause", "nodes": "node4", "percent": 3},
     "faults.schedule[0].percent: pause takes no percent (remove it; pause takes nodes)"),
    ({"fault": "isolate", "nodes": "node3", "every": "5s"},
     "faults.schedule[0].every: every needs times (how many occurrences) (add times: N, e.g. "
     "times: 3)"),
    ({"fault": "partition", "shape": "halves", "every": "5s", "times": 3, "for": "6s"},
     "faults.schedule[0].for: each occurrence must end before the next starts (make for "
     "shorter than every, 5s)"),
    ({"fault": "loss", "nodes": "node2", "peers": "node2", "percent": 5},
     "faults.schedule[0].peers: no link left to fault: the nodes have no peer (name peers that "
     "are not among the nodes)"),
    ({"fault": "rate", "nodes": "node2", "rate": "fast"},
     "faults.schedule[0].rate: 'fast' is not valid here (write a number and a unit: 1mbit, "
     "512kbit, 10gbit)"),
]


@pytest.mark.parametrize(("entry", "message"), SPEC_CASES, ids=[f"{e['fault']}-{i}"
                                                                for i, (e, _) in
                                                                enumerate(SPEC_CASES)])
def test_a_bad_scheduled_fault_is_one_line_with_its_path(errors, entry, message):
    error = errors(base_doc(faults={"schedule": [entry]}))
    assert [str(p).split("/cluster.yml: ", 1)[1] for p in error.problems] == [message]


def test_a_good_schedule_loads(load):
    spec = load(base_doc(faults={"seed": 3, "schedule": [
        {"fault": "partition", "groups": [["node1", "node2"], ["node3"]], "at": "2s",
         "for": "5s"},
        {"fault": "partition", "shape": "halves", "every": "10s", "times": 3, "for": "5s"},
        {"fault": "delay", "nodes": ["node2"], "delay": "100ms", "jitter": "10ms"}]}))
    first, second, third = spec.faults.schedule
    assert (first.at, first.duration, first.times) == (2.0, 5.0, 1)
    assert (second.every, second.times) == (10.0, 3)
    assert (third.fault.delay, third.fault.jitter, third.duration) == (0.1, 0.01, None)
    assert spec.faults.seed == 3


CLI_CASES = [
    (["partition", "node1,node9", "node3"],
     "fault partition: unknown node 'node9' (use one of node1, node2, node3, node4, node5, "
     "tester)"),
    (["partition", "node1,node2", ","], "fault partition: group 2 is empty (name at least one "
                                        "node)"),
    (["partition", "node1,node2", "node2,node3"],
     "fault partition: node2 is in group 1 and in group 2 (put each node in one group)"),
    (["loss", "node2", "--percent", "150"],
     "fault loss: percent 150 is out of range (give a percentage above 0 and at most 100, "
     "e.g. 30)"),
    (["loss", "node2", "--percent", "-3"],
     "fault loss: percent -3 is out of range (give a percentage above 0 and at most 100, "
     "e.g. 30)"),
    (["isolate", "node7"], "fault isolate: unknown node 'node7' (use one of node1, node2, node3, "
                           "node4, node5, tester)"),
    (["pause", ","], "fault pause: pause needs nodes (name at least one node, e.g. node2)"),
    (["partition", "--shape", "stars"], "fault partition: unknown shape 'stars' (use one of "
                                        "halves, majority-ring, bridge, random-node)"),
    (["rate", "node2", "--rate", "1 mbit"], "fault rate: rate '1 mbit' is not a rate tc reads "
                                            "(write a number and a unit: 1mbit, 512kbit, "
                                            "10gbit)"),
    (["delay", "node2", "--delay", "soon"],
     "fault delay: 'soon' is not a duration like 10s, 1m30s or 500ms"),
]


@pytest.mark.parametrize(("argv", "message"), CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_bad_input_on_the_command_line_is_one_line_and_touches_nothing(
        tmp_path, capsys, monkeypatch, argv, message):
    spec = write_spec(tmp_path, base_doc())
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/clusterdeploy-test.sock")
    monkeypatch.setattr("clusterdeploy.docker.engine.Engine", None)  # any host access would fail
    code = main(["fault", *argv, "--spec", str(spec)])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip() == message
    assert out == ""

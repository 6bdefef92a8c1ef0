"""The journal entry's round trip, what counts as a restarted node, the nemesis line's exact
shape, and the concrete schedule a seed gives (the same twice)."""

from __future__ import annotations

import json

from unitlib import base_doc

from clusterdeploy.clusterspec.faults import FaultDef
from clusterdeploy.faults import journal
from clusterdeploy.faults.journal import JournalEntry
from clusterdeploy.faults.model import concrete
from clusterdeploy.faults.schedule import concrete_schedule, schedule_text

MEMBERS = [f"node{i}" for i in range(1, 6)] + ["tester"]


def entry() -> JournalEntry:
    fault = concrete(FaultDef("partition", shape="halves"), MEMBERS, "p1", seed=9)
    return JournalEntry(fault, "2026-11-28T08:00:00.000000001Z", "local", "me@here (pid 1)",
                        "helper:1", containers={"node1": "ci_node1", "node2": "ci_node2"},
                        addresses={"node1": "172.28.0.2", "node2": "172.28.0.3"},
                        started={"ci_node1": "T1", "ci_node2": "T2"}, run="seed 9")


def test_an_entry_is_one_line_of_json_and_reads_back_the_same():
    text = entry().text()
    assert "\n" not in text
    assert JournalEntry.parse(text) == entry()
    assert set(json.loads(text)) == {"id", "fault", "targets", "detail", "seed", "since",
                                     "host", "by", "run", "helper", "containers", "addresses",
                                     "started"}


def test_a_node_whose_container_started_since_lost_its_rules():
    assert entry().restarted({"ci_node1": "T1", "ci_node2": "T2"}) == []
    assert entry().restarted({"ci_node1": "T1", "ci_node2": "T3"}) == ["node2"]
    assert entry().restarted({"ci_node1": "T1"}) == ["node2"]  # gone
    assert entry().with_started({"ci_node2": "T3"}).started == {"ci_node1": "T1",
                                                                "ci_node2": "T3"}


def test_unreadable_lines_are_kept_apart():
    good, bad = journal.parse_entries(entry().text() + "\n{not json\n\n")
    assert [e.id for e in good] == ["p1"]
    assert bad == ["{not json"]


def test_the_nemesis_line_has_the_agreed_shape():
    fault = concrete(FaultDef("isolate", nodes=("node3",)), MEMBERS, "i1", seed=4)
    line = json.loads(journal.nemesis_line("start", fault, "2026-11-28T08:00:00.123456789Z"))
    assert line == {"time": "2026-11-28T08:00:00.123456789Z", "container": "nemesis",
                    "event": "start", "fault": "isolate", "id": "i1",
                    "targets": ["node1", "node2", "node3", "node4", "node5"],
                    "detail": fault.detail, "seed": 4}


def test_rfc3339_now_has_nanoseconds():
    now = journal.rfc3339_now()
    assert len(now) == 30 and now[10] == "T" and now.endswith("Z")


SCHEDULE = {"seed": 5, "schedule": [
    {"fault": "partition", "shape": "halves", "at": "2s", "every": "10s", "times": 3,
     "for": "4s"},
    {"fault": "pause", "nodes": "node4", "at": "5s", "for": "1s"},
    {"fault": "isolate", "nodes": ["node1"]},
]}


def test_a_seed_gives_the_same_concrete_schedule_and_another_seed_another(load):
    spec = load(base_doc(faults=SCHEDULE))
    planned = concrete_schedule(spec, 5)
    assert schedule_text(planned) == schedule_text(concrete_schedule(spec, 5))
    assert schedule_text(planned) != schedule_text(concrete_schedule(spec, 6))
    assert [(p.fault.id, p.at, p.duration) for p in planned] == [
        ("s3-isolate", 0.0, None), ("s1-1-partition", 2.0, 4.0), ("s2-pause", 5.0, 1.0),
        ("s1-2-partition", 12.0, 4.0), ("s1-3-partition", 22.0, 4.0)]
    halves = [p.fault.detail["groups"] for p in planned if p.fault.kind == "partition"]
    assert len({json.dumps(g) for g in halves}) > 1  # each occurrence drawn anew
    written = json.loads(schedule_text(planned))
    assert set(written[0]) == {"id", "fault", "targets", "detail", "seed", "at", "for"}
    assert all(item["seed"] == 5 for item in written)

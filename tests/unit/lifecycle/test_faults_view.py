"""What `fault list` and `status` say about active faults."""

from __future__ import annotations

import dataclasses

from unitlib import base_doc, desired_for, observed_from

from clusterdeploy.clusterspec.faults import FaultDef
from clusterdeploy.core.observed import ObservedFault
from clusterdeploy.faults.executor import Container
from clusterdeploy.faults.journal import JournalEntry
from clusterdeploy.faults.model import concrete
from clusterdeploy.lifecycle.faults import holds, render_fault_table
from clusterdeploy.lifecycle.status import render_table, status_rows

MEMBERS = [f"node{i}" for i in range(1, 6)] + ["tester"]


def entry(kind: str, **values) -> JournalEntry:
    fault = concrete(FaultDef(kind, **values), MEMBERS, f"{kind}-1")
    return JournalEntry(fault, "2026-11-28T08:00:00.000000001Z", "local", "me", "h:1",
                        containers={n: f"ci_{n}" for n in fault.targets},
                        started={f"ci_{n}": "T0" for n in fault.targets})


def running(*names: str, status: str = "running", started: str = "T0") -> dict:
    return {f"ci_{n}": Container(f"ci_{n}", status, started) for n in names}


def test_a_fault_holds_until_something_outside_clusterdeploy_undoes_it():
    pause = entry("pause", nodes=("node4",))
    assert holds(pause, running("node4", status="paused")) == "active"
    assert holds(pause, running("node4")) == "node4 not paused any more"
    kill = entry("kill", nodes=("node5",))
    assert holds(kill, running("node5", status="exited")) == "active"
    assert holds(kill, running("node5")) == "node5 running again"
    isolate = entry("isolate", nodes=("node3",))
    assert holds(isolate, running(*MEMBERS[:5])) == "active"
    assert holds(isolate, {**running(*MEMBERS[:5]), **running("node3", started="T1")}) == (
        "rules lost on node3 (started since; the next fault command re-applies them)")


def test_the_fault_table():
    rows = [{"id": "isolate-1", "since": "2026-11-28T08:00:00.000000001Z", "host": "local",
             "state": "active", "what": "isolate node3 | node1,node2,node4,node5"}]
    assert render_fault_table(rows).splitlines() == [
        "ID         SINCE                HOST   STATE   FAULT",
        "isolate-1  2026-11-28 08:00:00  local  active  isolate node3 | node1,node2,node4,node5"]


def test_status_lists_active_faults_under_the_table_and_per_row(load):
    desired = desired_for(load(base_doc()))
    record = entry("isolate", nodes=("node3",))
    observed = dataclasses.replace(observed_from(desired), faults=(ObservedFault(
        "isolate-1", "isolate", record.fault.targets, record.since,
        tuple(record.containers.values()), "h:1", record.text()),))
    rows = status_rows(observed, desired)
    assert rows[2].faults == ["isolate-1"] and rows[5].faults == []  # not the tester
    assert render_table(rows, observed).splitlines()[-2:] == [
        "active faults (1; `clusterdeploy fault list` details them, `clusterdeploy fault heal` "
        "heals them):",
        "  isolate-1  since 2026-11-28T08:00:00Z  isolate node3 | node1,node2,node4,node5"]

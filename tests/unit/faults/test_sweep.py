"""The heal a deploy runs (heal-faults): under a real shell against the fake docker, with a
real journal directory."""

from __future__ import annotations

import json

from pyinfra.context import ctx_host

from clusterdeploy.clusterspec import Host
from clusterdeploy.clusterspec.faults import FaultDef
from clusterdeploy.core.actions import HealFaults
from clusterdeploy.core.observed import ObservedFault
from clusterdeploy.deploy import operations
from clusterdeploy.deploy.context import ApplyContext
from clusterdeploy.faults import scripts, sweep
from clusterdeploy.faults.journal import JournalEntry
from clusterdeploy.faults.model import concrete

MEMBERS = [f"node{i}" for i in range(1, 6)] + ["tester"]


def observed_entry(fault_id: str, kind: str, **values) -> ObservedFault:
    fault = concrete(FaultDef(kind, **values), MEMBERS, fault_id)
    record = JournalEntry(fault, "2026-11-28T08:00:00Z", "local", "me", "h:1",
                          containers={n: f"ci_{n}" for n in fault.targets}).text()
    return ObservedFault(fault_id, kind, fault.targets, "2026-11-28T08:00:00Z",
                         tuple(f"ci_{n}" for n in fault.targets), "h:1", record)


def test_the_deploys_heal_unpauses_sweeps_logs_the_ends_and_empties_the_journal(
        fake_docker, tmp_path):
    journal = tmp_path / "journal"
    journal.mkdir()
    faults = (observed_entry("p1", "partition", groups=(("node1",), ("node2",))),
              observed_entry("z1", "pause", nodes=("node4",)))
    for f in faults:
        (journal / f"{f.id}.json").write_text(f.record + "\n")
    (journal / "other.txt").write_text("kept")
    action = HealFaults(cause="2 active faults", cluster="ci", faults=faults,
                        sweep=("ci_node1", "ci_node2", "ci_node4"), unpause=("ci_node4",),
                        helper="h:1", directory=str(journal))
    done = fake_docker.run(sweep.heal_script(action))
    assert scripts.parse_outcome(done.stdout).ok
    calls = fake_docker.calls()
    assert calls[0]["argv"] == ["unpause", "--", "ci_node4"]  # before the namespaces
    assert sorted(c["argv"][c["argv"].index("--network") + 1] for c in calls[1:]) == [
        "container:ci_node1", "container:ci_node2", "container:ci_node4"]
    assert all(c["stdin"] == scripts.sweep_script() for c in calls[1:])
    assert sorted(p.name for p in journal.iterdir()) == ["nemesis.log", "other.txt"]
    ends = [json.loads(line) for line in (journal / "nemesis.log").read_text().splitlines()]
    assert [(e["event"], e["id"]) for e in ends] == [("end", "p1"), ("end", "z1")]


def test_a_failed_sweep_keeps_the_journal_and_names_the_container(fake_docker, tmp_path):
    fake_docker.state["fail"] = {"run": "Error response from daemon: No such image: h:1"}
    faults = (observed_entry("p1", "partition", groups=(("node1",), ("node2",))),)
    (tmp_path / "p1.json").write_text(faults[0].record)
    action = HealFaults(cause="", cluster="ci", faults=faults, sweep=("ci_node1",), unpause=(),
                        helper="h:1", directory=str(tmp_path))
    done = fake_docker.run(sweep.heal_script(action))
    assert sweep.failures(done.stdout) == [
        "ci_node1: sweep failed: Error response from daemon: No such image: h:1"]
    assert (tmp_path / "p1.json").exists()


class RecordingHost:
    name = "@local"

    def __init__(self) -> None:
        self.noops: list[str] = []

    def noop(self, text: str) -> None:
        self.noops.append(text)


def run_op(actions):
    host = RecordingHost()
    with ctx_host.use(host):
        context = ApplyContext(cluster="ci", host=Host(name="local", ssh=None, images="ship"))
        return host, list(operations.heal_faults._inner(actions=actions, context=context))


def test_the_heal_operation_runs_one_function_per_action():
    action = HealFaults(cause="x", cluster="ci", faults=(), sweep=(), unpause=("ci_node4",),
                        helper="", directory="/d")
    host, yielded = run_op([action])
    assert len(yielded) == 1 and yielded[0].function is operations._run_heal
    host, yielded = run_op([])
    assert host.noops == ["no fault to heal"] and yielded == []

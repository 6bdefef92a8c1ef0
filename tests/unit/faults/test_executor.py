"""The executor against a fake Docker host: the scripts it generates run under a real shell
(tests/unit/fakedocker.py answers `docker inspect` and records every `docker run` with the
script it was given), the journal and the nemesis log are real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from unitlib import FakeDocker, base_doc

from clusterdeploy.clusterspec.faults import FaultDef
from clusterdeploy.docker.engine import ScriptResult
from clusterdeploy.errors import DeployError
from clusterdeploy.faults.executor import FaultExecutor
from clusterdeploy.faults.model import concrete

HELPER = "fault-helper:test"
STARTED = "2026-11-28T08:00:00.000000001Z"


class FakeEngine:
    """An Engine whose shell is the fake Docker host."""

    name = "local"

    def __init__(self, docker: FakeDocker) -> None:
        self.docker = docker
        self.scripts: list[str] = []

    def run_script(self, script: str) -> ScriptResult:
        self.scripts.append(script)
        done = self.docker.run(script)
        return ScriptResult(done.returncode, done.stdout, done.stderr)


def set_containers(docker: FakeDocker, status: dict[str, str] | None = None,
                   started: dict[str, str] | None = None) -> None:
    names = [f"ci_node{i}" for i in range(1, 6)] + ["ci_tester"]
    docker.state["containers"] = [
        {"ID": n, "Name": f"/{n}", "State": {"Status": (status or {}).get(n, "running"),
                                             "StartedAt": (started or {}).get(n, STARTED)}}
        for n in names]


@pytest.fixture
def setup(load, fake_docker, tmp_path):
    spec = load(base_doc(faults={"helper_image": HELPER}))
    set_containers(fake_docker)
    engine = FakeEngine(fake_docker)
    executor = FaultExecutor(engine, spec, str(tmp_path / "state"), by="me@here")  # type: ignore[arg-type]
    return spec, engine, executor, tmp_path / "state" / ".clusterdeploy-faults" / "ci"


def members(spec):
    return [m.name for m in spec.members]


def runs(docker: FakeDocker) -> list[dict]:
    return [c for c in docker.calls() if c["argv"][0] == "run"]


def test_a_partition_is_journaled_applied_in_each_namespace_and_logged(setup, fake_docker):
    spec, engine, executor, journal = setup
    fault = concrete(FaultDef("partition", groups=(("node1", "node2"),)), members(spec), "p1")
    executor.apply(fault)
    entry = json.loads((journal / "p1.json").read_text())
    assert entry["fault"] == "partition" and entry["by"] == "me@here"
    assert entry["containers"]["node3"] == "ci_node3"
    assert entry["started"]["ci_node3"] == STARTED and entry["helper"] == HELPER
    calls = runs(fake_docker)
    assert sorted(c["argv"][c["argv"].index("--network") + 1] for c in calls) == [
        f"container:ci_node{i}" for i in range(1, 6)]
    for call in calls:
        assert call["argv"][:4] == ["run", "--rm", "-i", "--pull"]
        assert "--cap-add" in call["argv"] and "NET_ADMIN" in call["argv"]
        assert "--privileged" not in call["argv"]
        assert call["argv"][-3:] == [HELPER, "sh", "-s"]
    node1 = next(c["stdin"] for c in calls if "container:ci_node1" in c["argv"])
    assert ("-A CLUSTERDEPLOY-FAULTS -s 172.28.0.4/32 -m comment --comment clusterdeploy:p1 "
            "-j DROP") in node1
    assert "172.28.0.3/32" not in node1  # node2 is on its side
    assert "172.28.0.254" not in node1  # never the tester
    (line,) = (journal / "nemesis.log").read_text().splitlines()
    record = json.loads(line)
    assert list(record) == ["time", "container", "event", "fault", "id", "targets", "detail",
                            "seed"]
    assert (record["container"], record["event"], record["id"]) == ("nemesis", "start", "p1")
    assert record["time"].endswith("Z") and len(record["time"]) == 30
    change = engine.scripts[-1]
    assert change.index("p1.json") < change.index("docker run")  # journaled first


def test_heal_renders_the_nodes_again_and_ends_the_entry(setup, fake_docker):
    spec, _engine, executor, journal = setup
    executor.apply(concrete(FaultDef("isolate", nodes=("node3",)), members(spec), "i1"))
    executor.apply(concrete(FaultDef("partition", from_=("node1",), to=("node2",)),
                            members(spec), "o1"))
    fake_docker.log.unlink()
    healed, when = executor.heal(["i1"])
    assert [e.id for e in healed] == ["i1"]
    assert sorted(p.name for p in journal.glob("*.json")) == ["o1.json"]
    by_node = {c["argv"][c["argv"].index("--network") + 1]: c["stdin"]
               for c in runs(fake_docker)}
    assert "clusterdeploy:o1" in by_node["container:ci_node2"]  # what remains is rendered
    assert "clusterdeploy:i1" not in "".join(by_node.values())
    assert "iptables-save -t filter" in by_node["container:ci_node3"]  # no rule left: chain goes
    events = [json.loads(line)["event"] for line in (journal / "nemesis.log").read_text()
              .splitlines()]
    assert events == ["start", "start", "end"]
    assert when
    assert [e.id for e in executor.heal()[0]] == ["o1"]
    assert list(journal.glob("*.json")) == []


def test_a_fault_that_cannot_be_applied_is_undone_and_said_in_one_line(setup, fake_docker):
    spec, _engine, executor, journal = setup
    fake_docker.state["fail_stdin"] = {
        "clusterdeploy:p2": "Error response from daemon: cannot join network of a non running "
                            "container: 4f2a"}
    fault = concrete(FaultDef("partition", groups=(("node1",), ("node2",))), members(spec), "p2")
    with pytest.raises(DeployError) as error:
        executor.apply(fault)
    assert str(error.value).splitlines()[0] == (
        "local: p2 not applied: node1 (ci_node1) is not running: it has no network to fault "
        "(start it)")
    assert list(journal.glob("*.json")) == []  # undone: the entry is gone
    nemesis = journal / "nemesis.log"
    assert not nemesis.exists() or nemesis.read_text() == ""  # it never started


def test_a_node_that_is_down_is_refused_for_a_pause(setup, fake_docker):
    spec, _, executor, journal = setup
    set_containers(fake_docker, status={"ci_node4": "exited"})
    with pytest.raises(DeployError) as error:
        executor.apply(concrete(FaultDef("pause", nodes=("node4",)), members(spec), "z1"))
    assert str(error.value) == ("local: node4 (ci_node4) is exited: only a running container "
                                "can be paused")
    assert not journal.exists()


def test_pause_and_kill_are_container_commands_healed_by_unpause_and_start(setup, fake_docker):
    spec, _, executor, journal = setup
    executor.apply(concrete(FaultDef("pause", nodes=("node4",)), members(spec), "z1"))
    executor.apply(concrete(FaultDef("kill", nodes=("node5",)), members(spec), "k1"))
    commands = [c["argv"] for c in fake_docker.calls() if c["argv"][0] != "inspect"]
    assert commands == [["pause", "--", "ci_node4"], ["kill", "--signal", "KILL", "--",
                                                      "ci_node5"]]
    set_containers(fake_docker, status={"ci_node4": "paused", "ci_node5": "exited"})
    fake_docker.log.unlink()
    executor.heal()
    commands = [c["argv"] for c in fake_docker.calls() if c["argv"][0] != "inspect"]
    assert sorted(commands) == [["start", "--", "ci_node5"], ["unpause", "--", "ci_node4"]]
    assert list(journal.glob("*.json")) == []


def test_a_node_started_since_gets_its_rules_again(setup, fake_docker):
    spec, _, executor, journal = setup
    executor.apply(concrete(FaultDef("isolate", nodes=("node3",)), members(spec), "i1"))
    set_containers(fake_docker, started={"ci_node3": "2026-11-28T09:00:00Z"})
    fake_docker.log.unlink()
    assert executor.resync() == ["node3 was restarted since i1 was applied: its faults are "
                                 "re-applied"]
    (call,) = runs(fake_docker)
    assert "container:ci_node3" in call["argv"] and "clusterdeploy:i1" in call["stdin"]
    entry = json.loads((journal / "i1.json").read_text())
    assert entry["started"]["ci_node3"] == "2026-11-28T09:00:00Z"
    assert executor.resync() == []


def test_an_unknown_id_heals_nothing_and_says_so(setup):
    _, _, executor, _ = setup
    with pytest.raises(DeployError) as error:
        executor.heal(["nope-1"])
    assert str(error.value) == ("local: no active fault nope-1 (`clusterdeploy fault list` "
                                "shows them)")


class CannedEngine:
    name = "local"

    def __init__(self, result: ScriptResult) -> None:
        self.result = result

    def run_script(self, script: str) -> ScriptResult:
        assert "--network none" in script and "netem delay 1ms" in script
        return self.result


def test_no_netem_in_the_kernel_is_one_line_that_says_how_to_get_it(load, tmp_path: Path):
    spec = load(base_doc())
    engine = CannedEngine(ScriptResult(1, "Error: Specified qdisc kind is unknown.\n"
                                          "@@clusterdeploy-fault-error netem 6.1.0-test\n", ""))
    executor = FaultExecutor(engine, spec, str(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(DeployError) as error:
        executor.preflight_delay(HELPER)
    assert str(error.value) == (
        "local: delay needs the kernel's netem qdisc (sch_netem), which this Docker host's "
        "kernel 6.1.0-test does not have: tc says \"Error: Specified qdisc kind is unknown.\" "
        "(load it on the host: modprobe sch_netem; or use a kernel built with "
        "CONFIG_NET_SCH_NETEM)")

"""Node commands without Docker: names to members, containers by label, how each node ended."""

from __future__ import annotations

import pytest
from fakes import FakeContainer, FakeEngine
from unitlib import base_doc

from clusterdeploy.errors import DeployError
from clusterdeploy.lifecycle.nodes import Action, UnknownNode, containers_of, resolve


@pytest.fixture
def spec(load):
    return load(base_doc(count=3))


def test_nodes_are_named_as_in_the_spec_or_by_container_name(spec):
    members = resolve(spec, ["node2", "ci_node3", "tester", "node2", "ci_node2"])
    assert [m.name for m in members] == ["node2", "node3", "tester"]


def test_an_unknown_node_is_one_line_listing_the_known_ones(spec):
    with pytest.raises(UnknownNode) as info:
        resolve(spec, ["node9"])
    assert str(info.value) == (f"{spec.display}: cluster ci has no node node9 (its nodes: "
                               "node1, node2, node3, tester; container names work too)")
    with pytest.raises(UnknownNode) as info:
        resolve(spec, ["node2", "nodeX", "db", "nodeX"])
    assert "cluster ci has no nodes nodeX, db (its nodes:" in str(info.value)


def test_containers_are_found_by_their_member_label(spec):
    node2 = FakeContainer("node2")
    node2.name = "renamed"  # the label decides, not the name
    engine = FakeEngine(FakeContainer("node1"), node2, FakeContainer("node2", cluster="other"))
    [(member, container)] = containers_of(engine, spec, resolve(spec, ["node2"]))
    assert (member.name, container) == ("node2", node2)


def test_a_node_the_cluster_does_not_have_says_to_deploy(spec):
    engine = FakeEngine(FakeContainer("node1"))
    with pytest.raises(DeployError) as info:
        containers_of(engine, spec, resolve(spec, ["node1", "node2", "node3"]))
    assert str(info.value) == ("local: cluster ci has no container for node2 (ci_node2), node3 "
                               "(ci_node3) (deploy it first: `clusterdeploy deploy`)")


def member(spec, name):
    return resolve(spec, [name])[0]


def test_stop_is_graceful_by_the_containers_own_stop_timeout(spec):
    container = FakeContainer("node2", stop_timeout=7)
    done, line = Action("stop")("local", member(spec, "node2"), container)
    assert done and container.calls == [("stop", 7)]
    assert line.startswith("node2: stopped in ") and line.endswith("s, exited 0")


def test_a_container_without_a_stop_timeout_gets_dockers_default(spec):
    container = FakeContainer("node2", stop_timeout=None)
    Action("stop")("local", member(spec, "node2"), container)
    assert container.calls == [("stop", 10)]


def test_forced_stop_kills(spec):
    container = FakeContainer("node2")
    done, line = Action("stop", force=True)("local", member(spec, "node2"), container)
    assert done and container.calls == [("kill",)]
    assert line.startswith("node2: killed in ") and line.endswith("s, exit code 137")


def test_stop_of_a_stopped_node_says_how_it_had_ended(spec):
    container = FakeContainer("node2", status="exited", exit_code=2)
    assert Action("stop")("local", member(spec, "node2"), container) == (
        True, "node2: not running (exit code 2)")
    assert container.calls == []


def test_start_and_restart(spec):
    stopped = FakeContainer("node1", status="exited")
    assert Action("start")("local", member(spec, "node1"), stopped) == (True, "node1: started")
    assert Action("start")("local", member(spec, "node1"), stopped) == (
        True, "node1: already running")
    running = FakeContainer("node3")
    done, line = Action("restart")("local", member(spec, "node3"), running)
    assert done and running.calls == [("stop", 7), ("start",)]
    assert line.startswith("node3: stopped in ") and line.endswith("s, exited 0; started")
    killed = FakeContainer("node3")
    _, line = Action("restart", force=True)("local", member(spec, "node3"), killed)
    assert killed.calls == [("kill",), ("start",)] and "killed in" in line


def test_a_failed_start_is_one_line_naming_host_and_node(spec):
    container = FakeContainer("node1", status="exited", fail=(
        "driver failed programming external connectivity: Bind for 127.0.0.1:40401 failed: "
        "port is already allocated"))
    done, line = Action("start")("lab", member(spec, "node1"), container)
    assert not done
    assert line == ("lab: node1: host port 127.0.0.1:40401 is already in use by another process "
                    "or container (free it, or publish this node on another host port)")

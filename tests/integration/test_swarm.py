"""Issue 15: one cluster over several Docker hosts, on a Swarm overlay network.

Four engines, each in its own network namespace behind its own sshd (multi_host.py); the spec
lists three of them, later four. The tests run in order on one cluster: a cold deploy that
forms the swarm, traffic across hosts, a no-op redeploy, a node moved, a host and a node
added, an engine stopped, run --once, teardown that leaves the swarm as it was found, and a
host in another swarm refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, Project, make_project, plan_lines
from .multi_host import DockerHostGroup, docker_host_group_fixture

pytestmark = pytest.mark.docker

NAME = "cdsw"
group = docker_host_group_fixture(name="cdsw", count=4, subnet="10.250.4.0/24", first_slot=11)


@pytest.fixture(scope="module")
def project(engine: None, group: DockerHostGroup,
            tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("swarm"), NAME, 40400, 221)

    def over_three_hosts(spec: dict[str, Any]) -> None:
        spec["hosts"] = group.spec_hosts("h")[:3]
    project.edit_spec(over_three_hosts)
    return project


def on_engine(group: DockerHostGroup, i: int) -> dict[str, dict[str, Any]]:
    """The cluster's containers on engine i: name -> id, status, health."""
    ids = group.docker(i, "ps", "-aq", "--filter",
                       f"label=io.clusterdeploy.cluster={NAME}").stdout.split()
    if not ids:
        return {}
    return {c["Name"].lstrip("/"): {"id": c["Id"], "status": c["State"]["Status"],
                                    "health": (c["State"].get("Health") or {}).get("Status")}
            for c in json.loads(group.docker(i, "inspect", *ids).stdout)}


def placement(group: DockerHostGroup, hosts: int) -> dict[int, list[str]]:
    return {i: sorted(on_engine(group, i)) for i in range(1, hosts + 1)}


def curl(group: DockerHostGroup, i: int, container: str, url: str, *args: str) -> str:
    return group.docker(i, "exec", container, "curl", "-fsS", "--max-time", "10", *args,
                        url).stdout


def swarm(group: DockerHostGroup, i: int) -> dict[str, Any]:
    return group.swarm_state(i)


def test_a_cold_deploy_forms_the_swarm_and_spreads_the_nodes(project: Project,
                                                            group: DockerHostGroup) -> None:
    assert all(swarm(group, i)["LocalNodeState"] == "inactive" for i in (1, 2, 3, 4))
    result = project.deploy()
    assert "init-swarm h1: none of the hosts is in a swarm" in plan_lines(result, "h1")
    for i in (2, 3):
        assert f"join-swarm h{i}: join the swarm of h1" in plan_lines(result, f"h{i}")
    assert f"create-network {NAME}Net: missing (subnet 172.28.221.0/24)" in plan_lines(
        result, "h1")
    assert not any(line.startswith("create-network") for i in (2, 3)
                   for line in plan_lines(result, f"h{i}"))
    assert placement(group, 3) == {1: [f"{NAME}_node1", f"{NAME}_node4", f"{NAME}_tester"],
                                   2: [f"{NAME}_node2", f"{NAME}_node5"], 3: [f"{NAME}_node3"]}
    for i in (1, 2, 3):
        assert all(c["status"] == "running" for c in on_engine(group, i).values())
    manager = swarm(group, 1)
    assert manager["ControlAvailable"] and manager["Nodes"] == 3
    assert swarm(group, 4)["LocalNodeState"] == "inactive"  # not in the spec: untouched


def test_every_node_reaches_every_replica_by_name_across_hosts(project: Project,
                                                                group: DockerHostGroup) -> None:
    for i, names in placement(group, 3).items():
        for name in names:
            if name.endswith("tester"):
                continue
            peers = json.loads(curl(group, i, name, "http://127.0.0.1:40404/peers"))["peers"]
            assert len(peers) == 5 and all(p["reachable"] for p in peers), (name, peers)
    for n in range(1, 6):  # the tester (h1) by hostname
        assert f'"node{n}"' in curl(group, 1, f"{NAME}_tester", f"http://node{n}:40404/ping")


def test_a_write_on_node1_is_read_on_node5_on_another_host(project: Project,
                                                          group: DockerHostGroup) -> None:
    put = group.in_namespace(1, "curl", "-fsS", "-X", "PUT", "--data", "across",
                             "http://127.0.0.1:40401/kv/greeting").stdout
    assert all(v == "ok" for v in json.loads(put)["replicas"].values()), put
    got = group.in_namespace(2, "curl", "-fsS", "http://127.0.0.1:40405/kv/greeting").stdout
    assert "across" in got


def test_a_redeploy_changes_nothing_on_any_host_and_ships_nothing(
        project: Project, group: DockerHostGroup) -> None:
    before = {i: on_engine(group, i) for i in (1, 2, 3)}
    images = {i: group.docker(i, "images", "-q", "--no-trunc").stdout for i in (1, 2, 3)}
    result = project.deploy()
    for i in (1, 2, 3):
        assert plan_lines(result, f"h{i}") == [], result.stdout[-3000:]
    assert f"cluster {NAME} is up to date (3 containers)" in result.stdout + result.stderr
    assert {i: on_engine(group, i) for i in (1, 2, 3)} == before
    assert {i: group.docker(i, "images", "-q", "--no-trunc").stdout for i in (1, 2, 3)} == images


def test_a_node_moved_to_another_host_leaves_the_old_one(project: Project,
                                                        group: DockerHostGroup) -> None:
    project.edit_spec(lambda spec: spec["nodes"][2].update(host="h2"))
    result = project.deploy()
    assert f"remove {NAME}_node3: moved from h3 to h2" in plan_lines(result, "h3")
    assert f"create {NAME}_node3: moved from h3 to h2" in plan_lines(result, "h2")
    assert f"{NAME}_node3" in on_engine(group, 2) and on_engine(group, 3) == {}
    peers = json.loads(curl(group, 2, f"{NAME}_node3", "http://127.0.0.1:40404/peers"))["peers"]
    assert all(p["reachable"] for p in peers), peers


def test_a_fourth_host_and_a_sixth_node_join_the_cluster(project: Project,
                                                        group: DockerHostGroup) -> None:
    def grow(spec: dict[str, Any]) -> None:
        spec["hosts"] = group.spec_hosts("h")
        spec["nodes"].append({"name": "node6", "hostname": "node6", "host": "h4",
                              "container_name": f"{NAME}_node6",
                              "ports": ["127.0.0.1:40406:40404"]})
    project.edit_spec(grow)
    result = project.deploy()
    assert "join-swarm h4: not in the swarm of h1" in plan_lines(result, "h4")
    assert f"create {NAME}_node6: missing" in plan_lines(result, "h4")
    assert swarm(group, 1)["Nodes"] == 4
    # node4 goes where round-robin over four hosts puts it (h4)
    assert f"create {NAME}_node4: moved from h1 to h4" in plan_lines(result, "h4")
    for i, names in placement(group, 4).items():
        for name in names:
            if not name.endswith("tester"):
                peers = json.loads(curl(group, i, name, "http://127.0.0.1:40404/peers"))
                assert len(peers["peers"]) == 6
                assert all(p["reachable"] for p in peers["peers"]), (name, peers)


def test_a_stopped_engine_fails_the_deploy_naming_it_and_leaves_the_others_alone(
        project: Project, group: DockerHostGroup) -> None:
    before = {i: on_engine(group, i) for i in (1, 2, 4)}
    project.edit_spec(lambda spec: spec["nodes"][0].setdefault("environment", {}).update(
        LOG_LEVEL="debug"))
    group.host(3)._stop_dockerd()
    try:
        result = project.deploy(check=False)
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert "h3: cannot talk to Docker" in output, output[-3000:]
        assert "nothing was changed on any host" in output
        assert {i: on_engine(group, i) for i in (1, 2, 4)} == before
    finally:
        group.host(3)._start_dockerd()
    result = project.deploy()
    assert f"recreate {NAME}_node1" in "\n".join(plan_lines(result, "h1"))


def clusterdeploy(project: Project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clusterdeploy", *args, "--spec",
                           str(project.spec_path), "--state-dir", str(project.state_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_status_shows_every_host_and_what_runs_there(project: Project) -> None:
    result = clusterdeploy(project, "status", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["container"]: r for r in json.loads(result.stdout)}
    assert {name: r["host"] for name, r in rows.items()} == {
        f"{NAME}_node1": "h1", f"{NAME}_node2": "h2", f"{NAME}_node3": "h2",
        f"{NAME}_node4": "h4", f"{NAME}_node5": "h1", f"{NAME}_node6": "h4",
        f"{NAME}_tester": "h1"}
    assert all(r["state"] == "running" and r["drift"] == "in sync" for r in rows.values()), rows
    table = clusterdeploy(project, "status").stdout.splitlines()
    assert table[0].split()[:3] == ["CONTAINER", "NODE", "HOST"]


def test_run_once_collects_the_logs_of_every_host_into_one_folder(project: Project) -> None:
    result = clusterdeploy(project, "run", "--once")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "graceful shutdown of 7 containers on 4 hosts" in output
    run_dir = Path(next(line.split("logs: ", 1)[1].split(" (merged")[0]
                        for line in output.splitlines() if "] logs: " in line))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {name: s["host"] for name, s in summary.items()} == {
        f"{NAME}_node1": "h1", f"{NAME}_node2": "h2", f"{NAME}_node3": "h2",
        f"{NAME}_node4": "h4", f"{NAME}_node5": "h1", f"{NAME}_node6": "h4",
        f"{NAME}_tester": "h1"}
    lines = [json.loads(line) for line in (run_dir / "cluster.log").read_text().splitlines()]
    assert {line["host"] for line in lines} == {"h1", "h2", "h4"}
    assert all(s["exit_code"] is not None for s in summary.values())


def test_teardown_removes_everything_and_leaves_the_swarm_as_it_found_it(
        project: Project, group: DockerHostGroup) -> None:
    project.teardown(leave_swarm="true")
    for i in (1, 2, 3, 4):
        assert on_engine(group, i) == {}
        nets = group.docker(i, "network", "ls", "--filter",
                            f"label=io.clusterdeploy.cluster={NAME}", "-q").stdout
        assert nets.strip() == "" or i != 1  # workers may list the overlay a while
        assert swarm(group, i)["LocalNodeState"] == "inactive"


def test_a_host_in_another_swarm_is_refused_and_nothing_changes(
        project: Project, group: DockerHostGroup) -> None:
    for i in (1, 2):
        group.docker(i, "swarm", "init", "--advertise-addr", group.address(i))
    try:
        result = project.deploy(check=False)
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert "h2: is in another swarm than h1" in output, output[-3000:]
        assert all(on_engine(group, i) == {} for i in (1, 2, 3, 4))
        assert swarm(group, 3)["LocalNodeState"] == "inactive"
    finally:
        group.reset_swarm()

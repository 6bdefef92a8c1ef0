"""Issue 15: the swarm under a cluster over several hosts, planned from each host's membership."""

from __future__ import annotations

import json

import pytest

from clusterdeploy.clusterspec import Host, SSHAccess
from clusterdeploy.core.swarm import (
    SwarmMember,
    address_pool,
    parse_swarm,
    plan_leave,
    plan_swarm,
)
from clusterdeploy.docker.swarm import parse_join, parse_swarm_observation, swarm_script
from clusterdeploy.errors import DeployError


def lab(i: int, address: str = "", swarm_address: str | None = None) -> Host:
    return Host(f"lab{i}", SSHAccess(address or f"192.168.7.{i}", "root", 22, None, None),
                "ship", swarm_address)


LABS = [lab(1), lab(2), lab(3)]
SUBNET = "172.28.0.0/24"
INACTIVE = SwarmMember("inactive")


def manager(node: str, cluster: str = "swarm-a", recorded: str = "") -> SwarmMember:
    return SwarmMember("active", node, "192.168.7.1", True, cluster,
                       ((node, "192.168.7.1:2377"),), recorded=recorded)


def worker(node: str, *managers: str, recorded: str = "") -> SwarmMember:
    return SwarmMember("active", node, "192.168.7.9", False, "",
                       tuple((m, "192.168.7.1:2377") for m in managers), recorded=recorded)


def lines(plan) -> list[str]:
    return [str(a) for a in plan.actions]


def test_no_swarm_anywhere_the_first_host_initialises_one_and_the_others_join():
    plan = plan_swarm(LABS, {h.name: INACTIVE for h in LABS}, SUBNET)
    assert plan.manager == "lab1"
    assert lines(plan) == ["init-swarm lab1: none of the hosts is in a swarm",
                           "join-swarm lab2: join the swarm of lab1",
                           "join-swarm lab3: join the swarm of lab1"]
    assert plan.actions[0].advertise == "192.168.7.1" and plan.actions[1].advertise == "192.168.7.2"


def test_hosts_already_in_the_managers_swarm_are_left_alone():
    members = {"lab1": manager("m1"), "lab2": worker("w2", "m1"), "lab3": INACTIVE}
    plan = plan_swarm(LABS, members, SUBNET)
    assert (plan.manager, lines(plan)) == ("lab1", ["join-swarm lab3: not in the swarm of lab1"])
    members["lab3"] = worker("w3", "m1")
    assert plan_swarm(LABS, members, SUBNET).actions == ()


def test_the_manager_may_be_any_host_of_the_spec():
    members = {"lab1": INACTIVE, "lab2": manager("m2"), "lab3": INACTIVE}
    plan = plan_swarm(LABS, members, SUBNET)
    assert plan.manager == "lab2"
    assert lines(plan) == ["join-swarm lab1: not in the swarm of lab2",
                           "join-swarm lab3: not in the swarm of lab2"]


def test_a_host_in_another_swarm_is_an_error_naming_it_never_a_leave():
    members = {"lab1": manager("m1"), "lab2": manager("m2", cluster="swarm-b"),
               "lab3": worker("w3", "elsewhere")}
    with pytest.raises(DeployError) as error:
        plan_swarm(LABS, members, SUBNET)
    text = str(error.value)
    assert "lab2: is in another swarm than lab1 (clusterdeploy never leaves or resets a swarm" \
        in text
    assert "lab3: is in another swarm than lab1" in text


def test_workers_without_their_manager_in_the_spec_are_an_error():
    members = {"lab1": worker("w1", "m9"), "lab2": INACTIVE, "lab3": INACTIVE}
    with pytest.raises(DeployError, match="lab1: is a worker of a swarm whose managers "
                                          r"\(192.168.7.1:2377\) are not among the spec's hosts"):
        plan_swarm(LABS, members, SUBNET)


@pytest.mark.parametrize("state", ["pending", "error", "locked"])
def test_a_membership_in_between_is_an_error(state):
    members = {"lab1": INACTIVE, "lab2": SwarmMember(state, error="rpc error"), "lab3": INACTIVE}
    with pytest.raises(DeployError, match=f"lab2: its swarm membership is {state} "
                                          r"\(rpc error\)"):
        plan_swarm(LABS, members, SUBNET)


def test_the_advertise_address_is_the_swarm_address_else_the_ssh_address_else_dockers():
    hosts = [lab(1, swarm_address="10.9.0.1"), Host("local", None, "ship")]
    plan = plan_swarm(hosts, {"lab1": INACTIVE, "local": INACTIVE}, SUBNET)
    assert [a.advertise for a in plan.actions] == ["10.9.0.1", None]


def test_dockers_default_pool_is_kept_unless_it_holds_a_host_or_the_subnet():
    assert address_pool(LABS, SUBNET) is None
    near = [lab(1, "10.0.3.4"), lab(2, "10.0.3.5")]
    assert address_pool(near, SUBNET) == "10.1.0.0/16"
    assert address_pool(LABS, "10.0.0.0/16") == "10.1.0.0/16"
    assert address_pool([lab(1, "db1.example")], SUBNET) is None  # a name: nothing to avoid


def test_teardown_leaves_only_what_clusterdeploy_joined_workers_first():
    members = {"lab1": manager("m1", recorded="m1"), "lab2": worker("w2", "m1", recorded="w2"),
               "lab3": worker("w3", "m1")}  # lab3 was in the swarm before: no record
    actions, notes = plan_leave(LABS, members, [], ["m1", "w2", "w3"])
    assert [str(a) for a in actions] == ["leave-swarm lab2: leave_swarm: clusterdeploy joined it"]
    assert notes == ["lab1: stays the swarm's manager: 1 node(s) that clusterdeploy did not "
                     "join are in the swarm"]
    members["lab3"] = worker("w3", "m1", recorded="w3")
    actions, notes = plan_leave(LABS, members, [], ["m1", "w2", "w3"])
    assert [str(a) for a in actions] == [
        "leave-swarm lab2: leave_swarm: clusterdeploy joined it",
        "leave-swarm lab3: leave_swarm: clusterdeploy joined it",
        "leave-swarm-manager lab1: leave_swarm: clusterdeploy created the swarm"]
    assert notes == []


def test_the_manager_stays_while_another_clusters_network_uses_the_swarm():
    members = {"lab1": manager("m1", recorded="m1"), "lab2": INACTIVE, "lab3": INACTIVE}
    actions, notes = plan_leave(LABS, members, ["otherNet"], ["m1"])
    assert actions == [] and "other clusters' networks use the swarm (otherNet)" in notes[0]


def test_a_record_of_another_membership_is_not_ours():
    members = {"lab1": manager("m1", recorded="old-node-id"), "lab2": INACTIVE, "lab3": INACTIVE}
    assert plan_leave(LABS, members, [], ["m1"]) == ([], [])


MANAGER_INFO = {"NodeID": "m1", "NodeAddr": "10.250.3.11", "LocalNodeState": "active",
                "ControlAvailable": True, "Error": "", "RemoteManagers": [
                    {"NodeID": "m1", "Addr": "10.250.3.11:2377"}], "Nodes": 2,
                "Cluster": {"ID": "kpny"}}
WORKER_INFO = {"NodeID": "w2", "NodeAddr": "10.250.3.12", "LocalNodeState": "active",
               "ControlAvailable": False, "Error": "",
               "RemoteManagers": [{"NodeID": "m1", "Addr": "10.250.3.11:2377"}]}


def test_docker_info_parses_into_a_membership():
    chief, helper = parse_swarm(json.dumps(MANAGER_INFO)), parse_swarm(json.dumps(WORKER_INFO))
    assert (chief.manager, chief.cluster_id, chief.manager_address()) == (
        True, "kpny", "10.250.3.11:2377")
    assert helper.in_swarm_of(chief) and not helper.manager
    assert parse_swarm('{"LocalNodeState":"inactive","RemoteManagers":null}').state == "inactive"


def test_the_swarm_script_reads_a_manager_and_reports_a_dead_engine(tmp_path):
    import os
    import subprocess
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\ncase \"$1\" in\n"
                      f"  info) [ -e {tmp_path}/dead ] && {{ echo 'Cannot connect to the Docker "
                      "daemon' >&2; exit 1; }\n"
                      f"        echo '{json.dumps(MANAGER_INFO)}';;\n"
                      "  node) printf 'm1\\nw2\\n';;\n"
                      "  network) printf 'cdNet\\tcd\\notherNet\\tother\\n';;\nesac\n")
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / ".swarm-node").write_text("m1\n")
    output = subprocess.run(["sh", "-c", swarm_script(str(tmp_path / "state"))], env=env,
                            capture_output=True, text=True, check=True).stdout
    seen = parse_swarm_observation(output, "lab1")
    assert seen.member.recorded == "m1" and seen.member.manager
    assert seen.nodes == ("m1", "w2") and seen.overlays == {"cdNet": "cd", "otherNet": "other"}
    (tmp_path / "dead").touch()
    result = subprocess.run(["sh", "-c", swarm_script(str(tmp_path / "state"))], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0  # a failing fact would count the host failed in pyinfra
    with pytest.raises(DeployError, match="lab1: cannot talk to Docker: Cannot connect to the "
                                          "Docker daemon"):
        parse_swarm_observation(result.stdout, "lab1")


def test_the_join_token_and_address_come_from_the_managers_own_words():
    text = ("To add a worker to this swarm, run the following command:\n\n"
            "    docker swarm join --token SWMTKN-1-abc-def 10.250.3.11:2377\n\n")
    assert parse_join(text) == ("SWMTKN-1-abc-def", "10.250.3.11:2377")
    assert parse_join("Error response from daemon: This node is not a swarm manager.") is None


@pytest.mark.parametrize(("flag", "argv"), [
    ("--limit", ["pyinfra", "inventory.py", "deploy.py", "--limit", "h1"]),
    ("--serial", ["pyinfra", "--serial", "inventory.py", "deploy.py"]),
    ("--no-wait", ["pyinfra", "--no-wait=true", "inventory.py", "deploy.py"])])
def test_pyinfra_flags_that_break_the_phases_are_refused(flag, argv):
    from clusterdeploy.deploy.spread import check_flags
    with pytest.raises(DeployError, match=f"^{flag}: a cluster over several hosts is deployed"):
        check_flags(argv)
    check_flags(["pyinfra", "-y", "inventory.py", "deploy.py"])

"""Issue 16 on a remote Docker host over SSH: the helper image is shipped there, the same
partition gives the same reachability matrix, a heal leaves nothing, and a deploy heals what
the host's journal holds through pyinfra's SSH connection. The host is a second engine and an
sshd in a network namespace (remote_host.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO, Project, make_project, plan_lines
from .remote_host import RemoteDockerHost, remote_docker_host_fixture

pytestmark = pytest.mark.docker

NAME = "cdfaultr"
HOST = "lab"
NODES = [f"node{i}" for i in range(1, 6)]

remote = remote_docker_host_fixture(name="cdfaultr", subnet="10.251.0.12/30",
                                    bridge_cidr="10.252.4.1/24", address_pool="10.254.64.0/18")


@pytest.fixture(scope="module")
def project(engine: None, remote: RemoteDockerHost,
            tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("faults-remote"), NAME, 41870, 218)

    def to_remote(spec: dict) -> None:
        spec["hosts"] = [{"name": HOST, "images": "ship", "ssh": {
            "address": remote.address, "user": "root", "port": remote.ssh_port,
            "key": str(remote.client_key), "known_hosts": str(remote.known_hosts)}}]
    project.edit_spec(to_remote)
    project.deploy()
    return project


def fault(project: Project, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "clusterdeploy", "fault", *args, "--spec", str(project.spec_path),
         "--state-dir", str(project.state_dir)], cwd=REPO, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def reachability(remote: RemoteDockerHost) -> dict[tuple[str, str], bool]:
    found = {}
    for a in NODES:
        out = remote.docker("exec", f"{NAME}_{a}", "curl", "-sS", "-m", "8",
                            "http://127.0.0.1:40404/peers").stdout
        for peer in json.loads(out)["peers"]:
            if peer["hostname"] != a:
                found[(a, peer["hostname"])] = peer["reachable"]
    return found


def left_in(remote: RemoteDockerHost, container: str) -> str:
    helper = remote.docker("images", "--format", "{{.Repository}}:{{.Tag}}",
                           "clusterdeploy-fault-helper").stdout.split()[0]
    return remote.docker("run", "--rm", "--network", f"container:{container}", "--cap-add",
                         "NET_ADMIN", helper, "sh", "-c",
                         "iptables-save -t filter; tc qdisc show").stdout


def test_a_partition_on_a_remote_host_gives_the_same_matrix_and_heals(
        project: Project, remote: RemoteDockerHost) -> None:
    assert remote.docker("images", "-q", "clusterdeploy-fault-helper").stdout == ""
    result = fault(project, "partition", "node1,node2", "node3,node4,node5")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{HOST}: fault helper image clusterdeploy-fault-helper:")
    assert " shipped (" in lines[0]
    assert lines[1].startswith(f"{HOST}: partition-")  # shipped there, then applied
    side = {"node1": 0, "node2": 0, "node3": 1, "node4": 1, "node5": 1}
    assert reachability(remote) == {(a, b): side[a] == side[b]
                                    for a in NODES for b in NODES if a != b}
    (row,) = json.loads(fault(project, "list", "--json").stdout)
    assert (row["host"], row["state"]) == (HOST, "active")
    fault(project, "heal")
    assert all(reachability(remote).values())
    for node in NODES:
        assert "CLUSTERDEPLOY" not in left_in(remote, f"{NAME}_{node}")
    assert remote.docker("ps", "-aq", "--filter",
                         f"label=io.clusterdeploy.fault-helper={NAME}").stdout == ""


def test_a_deploy_heals_the_remote_journal_over_ssh(project: Project,
                                                    remote: RemoteDockerHost) -> None:
    fault(project, "isolate", "node3")
    fault(project, "pause", "node5")
    plan = plan_lines(project.deploy(), HOST)
    (heal,) = [line for line in plan if line.startswith("heal-faults")]
    assert heal.startswith(f"heal-faults {NAME}: 2 active faults (isolate ")
    assert heal.endswith(f"{NAME}_node5 paused")
    assert all(reachability(remote).values())
    assert remote.docker("inspect", "-f", "{{.State.Status}}",
                         f"{NAME}_node5").stdout.strip() == "running"
    assert "CLUSTERDEPLOY" not in left_in(remote, f"{NAME}_node3")
    assert json.loads(fault(project, "list", "--json").stdout) == []
    project.teardown()

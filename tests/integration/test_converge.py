"""Issue 4: `pyinfra inventory.py deploy.py` converges the cluster idempotently.

The tests run in order on one cluster (a copy of the default spec named `cdtest`, published on
127.0.0.1:4150I); each leaves the cluster converged for the next.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import (
    BIN,
    REPO,
    Project,
    containers_state,
    docker,
    http_get,
    make_project,
    plan_lines,
    remove_cluster,
)

pytestmark = pytest.mark.docker

NAME = "cdtest"
PORT_BASE = 41500
NODES = [f"{NAME}_node{i}" for i in range(1, 6)]
TESTER = f"{NAME}_tester"


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("converge"), NAME, PORT_BASE, 201)
    yield project
    remove_cluster(NAME)


def unchanged(before: dict, after: dict, names: list[str]) -> None:
    for name in names:
        assert after[name]["id"] == before[name]["id"], f"{name} was recreated"
        assert after[name]["started"] == before[name]["started"], f"{name} was restarted"


def test_cold_deploy_brings_up_every_node(project: Project) -> None:
    result = project.deploy()
    plan = plan_lines(result)
    assert f"create-network {NAME}Net: missing (subnet 172.28.201.0/24)" in plan
    for name in [*NODES, TESTER]:
        assert f"create {name}: missing" in plan
    state = containers_state(NAME)
    assert sorted(state) == sorted([*NODES, TESTER])
    for i, name in enumerate(NODES, start=1):
        assert state[name]["status"] == "running" and state[name]["health"] == "healthy"
        status, body = http_get(f"http://127.0.0.1:{PORT_BASE + i}/ping")
        assert status == 200 and f'"node{i}"' in body


def test_nodes_reach_each_other_by_hostname_from_the_tester(project: Project) -> None:
    for i in range(1, 6):
        out = docker("exec", TESTER, "curl", "-fsS", f"http://node{i}:40404/ping").stdout
        assert f'"node{i}"' in out
        docker("exec", TESTER, "ping", "-c", "1", "-W", "2", f"node{i}")


def test_every_node_knows_every_replica_and_its_own_address(project: Project) -> None:
    for i in range(1, 6):
        config = docker("exec", f"{NAME}_node{i}", "sh", "-c", 'cat "$CFG_PATH"').stdout
        assert config.count(" 40404") == 5, config
        _, status = http_get(f"http://127.0.0.1:{PORT_BASE + i}/status")
        assert f'"address":"172.28.201.{i + 1}"' in status.replace(" ", "")


def test_redeploy_changes_nothing(project: Project) -> None:
    before = containers_state(NAME)
    result = project.deploy()
    assert f"plan: cluster {NAME} is up to date (6 containers)" in result.stderr + result.stdout
    assert plan_lines(result) == []
    unchanged(before, containers_state(NAME), [*NODES, TESTER])


def test_dry_run_names_the_planned_action_and_changes_nothing(project: Project) -> None:
    project.edit_spec(lambda s: s["nodes"][1].setdefault("environment", {}).update(FOO="bar"))
    before = containers_state(NAME)
    result = project.deploy("--dry")
    assert f"recreate {NAME}_node2: environment changed: FOO" in plan_lines(result)
    unchanged(before, containers_state(NAME), [*NODES, TESTER])


def test_environment_change_recreates_exactly_that_node(project: Project) -> None:
    before = containers_state(NAME)
    result = project.deploy()
    assert f"recreate {NAME}_node2: environment changed: FOO" in plan_lines(result)
    after = containers_state(NAME)
    assert after[f"{NAME}_node2"]["id"] != before[f"{NAME}_node2"]["id"]
    assert after[f"{NAME}_node2"]["health"] == "healthy"
    env = docker("exec", f"{NAME}_node2", "printenv", "FOO").stdout.strip()
    assert env == "bar"
    unchanged(before, after, [n for n in [*NODES, TESTER] if n != f"{NAME}_node2"])


def test_adding_node6_creates_it_and_every_config_lists_six(project: Project) -> None:
    project.edit_spec(lambda s: s["nodes"].append(
        {"name": "node6", "container_name": f"{NAME}_node6", "hostname": "node6",
         "ports": [f"127.0.0.1:{PORT_BASE + 6}:40404"]}))
    result = project.deploy()
    assert f"create {NAME}_node6: missing" in plan_lines(result)
    for name in NODES:  # their Cluster.config changed, so they are recreated to see it
        assert any(line.startswith(f"recreate {name}: files changed: Cluster.config")
                   for line in plan_lines(result)), plan_lines(result)
    for i in range(1, 7):
        _, status = http_get(f"http://127.0.0.1:{PORT_BASE + i}/status")
        assert status.count('"hostname"') == 6, status
    out = docker("exec", TESTER, "curl", "-fsS", "http://node6:40404/ping").stdout
    assert '"node6"' in out


def test_removing_node6_removes_its_container(project: Project) -> None:
    project.edit_spec(lambda s: s["nodes"].pop())
    result = project.deploy()
    assert f"remove {NAME}_node6: no longer in the spec" in plan_lines(result)
    assert f"{NAME}_node6" not in containers_state(NAME)
    assert not (project.state_dir / NAME / f"{NAME}_node6").exists()


def test_container_removed_by_hand_comes_back_alone(project: Project) -> None:
    docker("rm", "-f", f"{NAME}_node3")
    before = containers_state(NAME)
    result = project.deploy()
    actions = [line for line in plan_lines(result) if not line.startswith("wait")]
    assert actions == [f"create {NAME}_node3: missing"]
    after = containers_state(NAME)
    assert after[f"{NAME}_node3"]["health"] == "healthy"
    unchanged(before, after, [n for n in [*NODES, TESTER] if n != f"{NAME}_node3"])


def test_stopped_container_is_started(project: Project) -> None:
    docker("stop", f"{NAME}_node2")
    before = containers_state(NAME)
    result = project.deploy()
    actions = [line for line in plan_lines(result) if not line.startswith("wait")]
    assert actions == [f"start {NAME}_node2: not running (exited with code 0)"]
    after = containers_state(NAME)
    assert after[f"{NAME}_node2"]["id"] == before[f"{NAME}_node2"]["id"]
    assert after[f"{NAME}_node2"]["status"] == "running"
    unchanged(before, after, [n for n in [*NODES, TESTER] if n != f"{NAME}_node2"])


def round_two(name: str) -> bool:
    """The node runs with ROUND=2 (the new config)."""
    result = docker("exec", name, "printenv", "ROUND", check=False)
    return result.returncode == 0 and result.stdout.strip() == "2"


def test_deploy_killed_halfway_then_converges(project: Project) -> None:
    project.edit_spec(lambda s: [n.setdefault("environment", {}).update(ROUND="2")
                                 for n in s["nodes"][2:]])
    # one container at a time, so the kill lands between the three recreates
    args = [str(BIN / "pyinfra"), "-y", "inventory.py", "deploy.py",
            "--data", f"state_dir={project.state_dir}", "--data", "parallelism=1"]
    env = {"CLUSTER_SPEC": str(project.spec_path), "PATH": "/usr/local/bin:/usr/bin:/bin"}
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "Starting operation: Containers" in line:
            time.sleep(0.5)
            break
    os.killpg(process.pid, signal.SIGKILL)  # pyinfra and the docker commands it started
    process.wait(timeout=30)
    state = containers_state(NAME)
    done = [n for n in NODES[2:] if n in state and state[n]["status"] == "running"
            and round_two(n)]
    assert len(done) < 3, "the kill came after the deploy finished: nothing was tested"
    project.deploy()
    state = containers_state(NAME)
    assert all(state[n]["health"] == "healthy" for n in NODES)
    for i in range(3, 6):
        assert docker("exec", f"{NAME}_node{i}", "printenv", "ROUND").stdout.strip() == "2"
    again = project.deploy()
    assert not [line for line in plan_lines(again) if line.startswith(("create", "recreate"))]


def test_a_node_disconnected_from_the_network_is_reconnected_and_reachable(
        project: Project) -> None:
    docker("network", "disconnect", f"{NAME}Net", f"{NAME}_node2")
    status = subprocess.run([sys.executable, "-m", "clusterdeploy", "status", "--json", "--spec",
                             str(project.spec_path), "--state-dir", str(project.state_dir)],
                            cwd=REPO, capture_output=True, text=True)
    drift = {row["container"]: row["drift"] for row in json.loads(status.stdout)}
    assert drift[f"{NAME}_node2"] == f"not attached to {NAME}Net"
    assert drift[f"{NAME}_node1"] == "in sync"
    result = project.deploy()
    assert f"recreate {NAME}_node2: not attached to {NAME}Net" in plan_lines(result)
    for i in (1, 3, 4, 5):
        out = docker("exec", f"{NAME}_node{i}", "curl", "-fsS", "http://node2:40404/ping").stdout
        assert '"node2"' in out


def test_the_logs_of_a_replaced_container_are_kept(project: Project) -> None:
    docker("exec", f"{NAME}_node4", "sh", "-c", "echo 'last words of the old node4' >/proc/1/fd/1")
    project.edit_spec(lambda s: s["nodes"][3].setdefault("environment", {}).update(ROUND="3"))
    result = project.deploy()
    assert ("collect-logs 1 container: before they are removed or replaced"
            in plan_lines(result))
    logs = project.root / "docker-test" / "logs"
    kept = sorted(logs.glob("*-deploy"))
    assert kept, sorted(p.name for p in logs.iterdir())
    assert "last words of the old node4" in (kept[-1] / f"{NAME}_node4.log").read_text()
    assert kept[-1].stat().st_mode & 0o777 == 0o700


def test_a_second_deploy_waits_for_the_lock_then_fails_naming_the_holder(
        project: Project) -> None:
    holder = subprocess.Popen([str(BIN / "pyinfra"), "-y", "inventory.py", "deploy.py",
                               "--data", f"state_dir={project.state_dir}"], cwd=REPO,
                              env={**os.environ, "CLUSTER_SPEC": str(project.spec_path)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert holder.stdout is not None
    for line in holder.stdout:  # the holder has the lock once it prints its plan
        if "plan: cluster" in line:
            holder.send_signal(signal.SIGSTOP)  # keep it holding the lock
            break
    try:
        second = project.deploy(check=False, lock_timeout="2")
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.wait(timeout=120)
    output = second.stdout + second.stderr
    assert second.returncode != 0
    assert f"pid {holder.pid}, `pyinfra -y inventory.py deploy.py" in output
    assert "the cluster is locked by" in output and "waited 2 s" in output
    assert "Traceback" not in output
    assert plan_lines(project.deploy()) == []  # released when the holder ended


def test_a_killed_deploys_lock_is_broken_by_the_next(project: Project) -> None:
    holder = subprocess.Popen([str(BIN / "pyinfra"), "-y", "inventory.py", "deploy.py",
                               "--data", f"state_dir={project.state_dir}"], cwd=REPO,
                              env={**os.environ, "CLUSTER_SPEC": str(project.spec_path)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert holder.stdout is not None
    for line in holder.stdout:
        if "plan: cluster" in line:
            holder.kill()
            break
    holder.wait(timeout=30)
    lock = subprocess.run([sys.executable, "-m", "clusterdeploy", "lock", "--spec",
                           str(project.spec_path), "--state-dir", str(project.state_dir)],
                          cwd=REPO, capture_output=True, text=True)
    assert f"(pid {holder.pid}," in lock.stdout and "that process is gone" in lock.stdout
    result = project.deploy(lock_timeout="5")
    assert "breaking the lock of root@" in result.stdout + result.stderr


def test_foreign_container_with_a_cluster_name_is_left_alone(project: Project) -> None:
    docker("rm", "-f", f"{NAME}_node1")
    foreign = docker("run", "-d", "--name", f"{NAME}_node1", "debian:bookworm",
                     "sleep", "infinity").stdout.strip()
    try:
        before = containers_state(NAME)
        result = project.deploy(check=False)
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert (f"container {NAME}_node1 already exists and belongs to no clusterdeploy "
                "cluster") in output
        assert "Traceback" not in output
        inspect = docker("inspect", "--format", "{{.Id}} {{.State.Status}}",
                         f"{NAME}_node1").stdout.split()
        assert inspect == [foreign, "running"]
        unchanged(before, containers_state(NAME), [n for n in NODES if n != f"{NAME}_node1"])
    finally:
        docker("rm", "-f", foreign)
    project.deploy()
    assert containers_state(NAME)[f"{NAME}_node1"]["health"] == "healthy"


def test_teardown_removes_only_the_cluster(project: Project) -> None:
    bystander = docker("run", "-d", "--name", "cdtest_bystander", "--label",
                       "io.clusterdeploy.cluster=someone-else", "debian:bookworm",
                       "sleep", "infinity").stdout.strip()
    try:
        result = project.teardown()
        assert f"remove-network {NAME}Net: teardown" in plan_lines(result)
        assert containers_state(NAME) == {}
        assert docker("network", "inspect", f"{NAME}Net", check=False).returncode != 0
        assert not Path(project.state_dir / NAME).exists()
        assert docker("inspect", "--format", "{{.State.Status}}", bystander).stdout.strip() \
            == "running"
    finally:
        docker("rm", "-f", bystander)

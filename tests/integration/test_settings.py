"""Issue 19: container settings a database test needs, applied on the real engine and seen from
inside the containers; node names in the Docker host's /etc/hosts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import (
    REPO,
    Project,
    containers_state,
    docker,
    http_get,
    make_project,
    plan_lines,
    remove_cluster,
    wait_for,
)

pytestmark = pytest.mark.docker

NAME = "cdset"
PORT_BASE = 41720


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("settings"), NAME, PORT_BASE, 216)

    def settings(spec: dict) -> None:
        spec["nodes"] = spec["nodes"][:2]
        spec["defaults"].update(ulimits={"nofile": {"soft": 4096, "hard": 8192}},
                                sysctls={"net.core.somaxconn": 777},
                                tmpfs=["/scratch:size=16m"], memory="256m", pids_limit=300,
                                labels={"team": "storage"})
    project.edit_spec(settings)
    yield project
    remove_cluster(NAME)


def inside(node: str, script: str) -> str:
    return docker("exec", f"{NAME}_{node}", "sh", "-c", script).stdout.strip()


def test_limits_and_kernel_settings_are_seen_inside(project: Project) -> None:
    project.deploy()
    assert inside("node1", "ulimit -Sn; ulimit -Hn").split() == ["4096", "8192"]
    assert inside("node1", "cat /proc/sys/net/core/somaxconn") == "777"
    assert inside("node1", "stat -f -c %T /scratch") == "tmpfs"
    data = json.loads(docker("inspect", f"{NAME}_node1").stdout)[0]
    assert data["HostConfig"]["Memory"] == 256 << 20
    assert data["HostConfig"]["PidsLimit"] == 300
    assert data["Config"]["Labels"]["team"] == "storage"
    assert plan_lines(project.deploy()) == []


def status(project: Project) -> dict[str, dict]:
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "status", "--json", "--spec",
                             str(project.spec_path), "--state-dir", str(project.state_dir)],
                            cwd=REPO, capture_output=True, text=True)
    return {row["container"]: row for row in json.loads(result.stdout)}


def test_a_node_over_its_memory_limit_is_oom_killed_and_says_so(project: Project) -> None:
    project.edit_spec(lambda s: s["nodes"][1].update(
        memory="64m", healthcheck={"test": ["NONE"]}, ready_timeout="5s",
        command=["sh", "-c", "head -c 300m /dev/zero | tail"]))  # tail holds it all
    result = project.deploy(check=False)
    assert result.returncode != 0
    assert f"{NAME}_node2 is not ready: state exited" in result.stdout + result.stderr
    assert status(project)[f"{NAME}_node2"]["state"] == "exited (137, OOM-killed)"
    logs = subprocess.run([sys.executable, "-m", "clusterdeploy", "logs", "--spec",
                           str(project.spec_path)], cwd=REPO, capture_output=True, text=True)
    summary = json.loads((Path(logs.stdout.strip()) / "summary.json").read_text())
    assert summary[f"{NAME}_node2"]["oom_killed"] is True


def test_restart_on_failure_restarts_a_crashing_node(project: Project) -> None:
    project.edit_spec(lambda s: s["nodes"][1].update(
        memory="256m", restart="on-failure", command=["sh", "-c", "sleep 1; exit 3"]))
    project.deploy(check=False)
    wait_for(lambda: json.loads(docker("inspect", f"{NAME}_node2").stdout)[0]["RestartCount"] >= 2,
             timeout=60)
    spec = project.spec()
    for key in ("memory", "restart", "command", "healthcheck", "ready_timeout"):
        spec["nodes"][1].pop(key, None)
    project.write_spec(spec)
    project.deploy()
    assert containers_state(NAME)[f"{NAME}_node2"]["health"] == "healthy"


def test_node_names_reach_the_hosts_etc_hosts_and_leave_it_as_it_was(project: Project) -> None:
    before = Path("/etc/hosts").read_text()
    result = project.deploy(host_names="true")
    assert "write-hosts /etc/hosts: missing" in plan_lines(result)
    hosts = Path("/etc/hosts").read_text()
    assert hosts.startswith(before)
    assert f"# BEGIN clusterdeploy cluster {NAME}\n172.28.216.2 node1\n" in hosts
    status_, body = http_get("http://node2:40404/ping")
    assert status_ == 200 and '"node2"' in body
    assert plan_lines(project.deploy(host_names="true")) == []
    printed = subprocess.run([sys.executable, "-m", "clusterdeploy", "hosts", "--spec",
                              str(project.spec_path)], cwd=REPO, capture_output=True, text=True)
    assert printed.stdout in hosts
    result = project.teardown()
    assert "remove-hosts /etc/hosts: teardown" in plan_lines(result)
    assert Path("/etc/hosts").read_text() == before

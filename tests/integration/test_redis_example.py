"""Issue 19: a program that needs a bootstrap step (Redis Cluster, from Debian's packages), with
per-node data volumes: one `pyinfra deploy.py` makes a working cluster; a recreated node keeps
its data; teardown keeps the volumes unless asked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO, Project, docker, plan_lines, remove_cluster

pytestmark = pytest.mark.docker

NAME = "cdredis"
PORT_BASE = 41380
VOLUMES = [f"{NAME}_redis{i}_data" for i in (1, 2, 3)]


def remove_volumes() -> None:
    names = docker("volume", "ls", "-q", "--filter", f"label=io.clusterdeploy.cluster={NAME}")
    if names.stdout.split():
        docker("volume", "rm", *names.stdout.split(), check=False)


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Project:
    remove_volumes()
    root = tmp_path_factory.mktemp("redis") / "redis"
    shutil.copytree(REPO / "examples" / "redis", root, ignore=shutil.ignore_patterns("logs"))
    project = Project(root, root.parent / "state")

    def rename(spec: dict) -> None:
        spec["name"] = NAME
        spec["network"] = {"name": f"{NAME}Net", "subnet": "172.28.213.0/24"}
        spec["nodes"]["container_name"] = f"{NAME}_{{i}}"
        spec["nodes"]["publish"]["base"] = PORT_BASE
        spec["tester"]["container_name"] = f"{NAME}_tester"
    project.edit_spec(rename)
    yield project
    remove_cluster(NAME)
    remove_volumes()


def redis(node: int, *args: str) -> str:
    out = docker("exec", f"{NAME}_{node}", "redis-cli", "-c", *args).stdout
    return out.strip()


def volumes() -> set[str]:
    return set(docker("volume", "ls", "-q", "--filter",
                      f"label=io.clusterdeploy.cluster={NAME}").stdout.split())


def test_one_deploy_makes_a_working_cluster(project: Project) -> None:
    result = project.deploy()
    plan = plan_lines(result)
    assert [line for line in plan if line.startswith("create-volume")] == [
        f"create-volume {v}: missing" for v in VOLUMES]
    assert f"bootstrap {NAME}_tester: the cluster was never bootstrapped" in plan
    output = result.stdout + result.stderr
    assert "[OK] All 16384 slots covered." in output  # the bootstrap's own output, shown
    for node in (1, 2, 3):
        assert "cluster_state:ok" in redis(node, "cluster", "info")
    kept = sorted((project.root / "logs").glob("*-bootstrap/bootstrap.log"))
    assert kept and "All 16384 slots covered" in kept[-1].read_text()


def test_a_redeploy_does_not_bootstrap_again(project: Project) -> None:
    assert plan_lines(project.deploy()) == []


def test_the_suite_reads_a_key_through_every_node(project: Project) -> None:
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "run", "--once", "--spec",
                             str(project.spec_path), "--state-dir", str(project.state_dir)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("the key reads back") == 3


def test_a_recreated_node_keeps_its_data_on_its_volume(project: Project) -> None:
    project.deploy()  # the run shut the cluster down
    assert redis(1, "set", "survivor", "still-here") == "OK"
    # the node that stores the key (its slot's owner) is the one recreated
    owner = next(n for n in (1, 2, 3)
                 if "survivor" in docker("exec", f"{NAME}_{n}", "redis-cli", "--scan").stdout)
    before = docker("inspect", "--format", "{{.Id}}", f"{NAME}_{owner}").stdout
    project.edit_spec(lambda s: s["nodes"].setdefault("overrides", {}).setdefault(
        f"redis{owner}", {}).update(environment={"RECREATED": "1"}))
    result = project.deploy()
    assert f"recreate {NAME}_{owner}: environment changed: RECREATED" in plan_lines(result)
    assert docker("inspect", "--format", "{{.Id}}", f"{NAME}_{owner}").stdout != before
    assert not [line for line in plan_lines(result) if line.startswith("bootstrap")]
    assert redis(owner, "get", "survivor") == "still-here"
    assert "cluster_state:ok" in redis(owner, "cluster", "info")


def test_status_shows_each_nodes_volume(project: Project) -> None:
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "status", "--json", "--spec",
                             str(project.spec_path), "--state-dir", str(project.state_dir)],
                            cwd=REPO, capture_output=True, text=True)
    rows = {row["container"]: row for row in json.loads(result.stdout)}
    assert rows[f"{NAME}_1"]["volumes"].startswith(f"{NAME}_redis1_data ")
    assert rows[f"{NAME}_tester"]["volumes"] == "-"


def test_a_failing_bootstrap_fails_the_deploy_with_its_output(project: Project) -> None:
    spec = project.spec()
    project.edit_spec(lambda s: s["bootstrap"].update(
        command=["sh", "-c", "echo cannot form the cluster >&2; exit 3"], when="always"))
    try:
        result = project.deploy(check=False)
    finally:
        project.write_spec(spec)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"local: the bootstrap in {NAME}_tester failed" in output
    assert "cannot form the cluster" in output and "Traceback" not in output


def test_teardown_keeps_the_volumes_unless_asked(project: Project) -> None:
    project.teardown()
    assert volumes() == set(VOLUMES)
    project.deploy()
    assert redis(1, "get", "survivor") == "still-here"  # the data came back with the nodes
    project.teardown(volumes="remove")
    assert volumes() == set()


def test_a_foreign_volume_named_like_ours_is_never_touched(project: Project) -> None:
    docker("volume", "create", VOLUMES[1])
    try:
        result = project.deploy(check=False)
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert (f"volume {VOLUMES[1]} already exists and belongs to no clusterdeploy cluster"
                in output)
        assert docker("volume", "inspect", "--format", "{{.Labels}}", VOLUMES[1]).stdout.strip() \
            in ("map[]", "<no value>")
        assert docker("ps", "-aq", "--filter",
                      f"label=io.clusterdeploy.cluster={NAME}").stdout == ""
    finally:
        docker("volume", "rm", VOLUMES[1])

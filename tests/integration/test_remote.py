"""Issue 6: the default cluster on a remote Docker host over SSH, images shipped without a
registry. The host is a second engine and an sshd in a network namespace (remote_host.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml

from .conftest import REPO, Project, containers_state, make_project, plan_lines
from .remote_host import RemoteDockerHost, generate_key, remote_docker_host_fixture

pytestmark = pytest.mark.docker

NAME = "cdssh"
HOST = "lab"

remote = remote_docker_host_fixture(name="cdssh", subnet="10.251.0.8/30",
                                    bridge_cidr="10.252.2.1/24", address_pool="10.255.0.0/16")


def running(project: Project, remote: RemoteDockerHost) -> dict[str, tuple[str, str]]:
    """The cluster deployed, all six containers up: what a failed deploy must leave as it
    was."""
    project.deploy()
    state = remote_state(remote)
    assert len(state) == 6 and all(status == "running" for _, status in state.values())
    return state


def remote_state(remote: RemoteDockerHost) -> dict[str, tuple[str, str]]:
    ids = remote.docker("ps", "-aq", "--filter", f"label=io.clusterdeploy.cluster={NAME}")
    if not ids.stdout.split():
        return {}
    data = json.loads(remote.docker("inspect", *ids.stdout.split()).stdout)
    return {c["Name"].lstrip("/"): (c["Id"], c["State"]["Status"]) for c in data}


@pytest.fixture(scope="module")
def project(engine: None, remote: RemoteDockerHost,
            tmp_path_factory: pytest.TempPathFactory) -> Project:
    tmp = tmp_path_factory.mktemp("remote")
    project = make_project(tmp, NAME, 40400, 205)  # host ports 4040I, on the remote host

    def to_remote(spec: dict) -> None:
        spec["hosts"] = [{"name": HOST, "images": "ship", "ssh": {
            "address": remote.address, "user": "root", "port": remote.ssh_port,
            "key": str(remote.client_key), "known_hosts": str(remote.known_hosts)}}]
    project.edit_spec(to_remote)
    return project


def test_cold_deploy_over_ssh_brings_up_the_cluster_there(project: Project,
                                                         remote: RemoteDockerHost) -> None:
    result = project.deploy()
    plan = plan_lines(result, HOST)
    builds = [line for line in plan if line.startswith("build ")]
    assert len(builds) == 1 and builds[0].startswith("build my-db:"), plan  # no builder shipped
    state = remote_state(remote)
    assert sorted(state) == sorted([f"{NAME}_node{i}" for i in range(1, 6)] + [f"{NAME}_tester"])
    assert all(status == "running" for _, status in state.values())
    assert containers_state(NAME) == {}  # nothing on the local engine
    for i in range(1, 6):  # published on the remote host's loopback
        out = remote.in_namespace("curl", "-fsS", f"http://127.0.0.1:4040{i}/ping").stdout
        assert f'"node{i}"' in out
        out = remote.docker("exec", f"{NAME}_tester", "curl", "-fsS",
                            f"http://node{i}:40404/ping").stdout
        assert f'"node{i}"' in out


def test_redeploy_over_ssh_changes_nothing_and_ships_nothing(project: Project,
                                                            remote: RemoteDockerHost) -> None:
    before = remote_state(remote)
    images = remote.docker("images", "--no-trunc", "-q").stdout
    result = project.deploy()
    assert f"plan: cluster {NAME} is up to date (6 containers)" in result.stdout + result.stderr
    assert plan_lines(result, HOST) == []
    assert remote_state(remote) == before
    assert remote.docker("images", "--no-trunc", "-q").stdout == images


def test_status_over_ssh(project: Project) -> None:
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "status", "--json",
                             "--spec", str(project.spec_path), "--state-dir",
                             str(project.state_dir)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 6
    assert all(row["state"] == "running" and row["drift"] == "in sync" for row in rows), rows


def test_go_edit_ships_exactly_the_node_image(project: Project, remote: RemoteDockerHost) -> None:
    main = project.root / "cmd" / "main.go"
    main.write_text(main.read_text() + f"\n// remote edit {uuid.uuid4()}\n")
    result = project.deploy()
    builds = [line for line in plan_lines(result, HOST) if line.startswith("build ")]
    assert len(builds) == 1 and builds[0].startswith("build my-db:"), builds
    assert builds[0].endswith("content changed (node)")
    ref = builds[0].split()[1].rstrip(":")
    assert remote.docker("image", "inspect", ref, check=False).returncode == 0
    assert remote.docker("image", "inspect", "go-builder:latest", check=False).returncode != 0
    assert plan_lines(project.deploy(), HOST) == []


def test_run_once_passes_the_suite_through_ssh_and_logs_arrive_here(project: Project) -> None:
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "run", "--once", "--spec",
                             str(project.spec_path), "--state-dir", str(project.state_dir)],
                            cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "--- PASS: TestPeersAllReachable" in result.stdout
    logs = (project.root / "docker-test" / "logs" / "latest").resolve()
    summary = json.loads((logs / "summary.json").read_text())
    assert len(summary) == 6 and all(e["exit_code"] == 0 for e in summary.values())
    assert "listening" in (logs / f"{NAME}_node1.log").read_text()
    assert "PASS" in (logs / "suite.log").read_text()


def test_wrong_key_is_one_clear_line(project: Project, remote: RemoteDockerHost,
                                     tmp_path) -> None:
    wrong = generate_key(tmp_path / "wrong_ed25519")
    before = running(project, remote)
    good = project.spec()
    project.edit_spec(lambda spec: spec["hosts"][0]["ssh"].update(key=str(wrong)))
    try:
        result = project.deploy(check=False)
    finally:
        project.write_spec(good)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"[{HOST}] Authentication error (username=root, key={wrong})" in output
    assert "Traceback" not in output
    assert remote_state(remote) == before


def test_stopped_sshd_is_one_clear_line(project: Project, remote: RemoteDockerHost) -> None:
    before = running(project, remote)
    remote.stop_sshd()
    try:
        result = project.deploy(check=False)
    finally:
        remote.start_sshd()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"[{HOST}] Could not connect" in output
    assert "Traceback" not in output
    assert remote_state(remote) == before


def test_no_docker_on_the_host_is_one_clear_line(project: Project,
                                                 remote: RemoteDockerHost) -> None:
    """The engine's socket is gone (as with no engine running): the deploy says so, naming
    the host, before any change."""
    before = running(project, remote)
    socket_path = remote.socket
    moved = socket_path.with_name(socket_path.name + ".away")
    socket_path.rename(moved)
    try:
        result = project.deploy(check=False)
    finally:
        moved.rename(socket_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"{HOST}: cannot talk to Docker: Cannot connect to the Docker daemon" in output
    assert "Traceback" not in output
    assert remote_state(remote) == before


def test_images_travel_without_sftp(project: Project, remote: RemoteDockerHost) -> None:
    """An sshd without the SFTP subsystem (minimal hosts): images stream through the exec
    channel into `docker load`."""
    main = project.root / "cmd" / "main.go"
    main.write_text(main.read_text() + f"\n// no sftp {uuid.uuid4()}\n")
    remote.set_sftp(False)
    try:
        result = project.deploy()
    finally:
        remote.set_sftp(True)
    builds = [line for line in plan_lines(result, HOST) if line.startswith("build ")]
    assert len(builds) == 1 and builds[0].startswith("build my-db:"), builds
    assert "Traceback" not in result.stdout + result.stderr
    assert all(status == "running" for _, status in remote_state(remote).values())


def test_images_built_on_the_host_from_the_streamed_context(project: Project,
                                                            remote: RemoteDockerHost) -> None:
    """`images: build`: the context goes to `docker build -` there; an image whose build needs
    no network (the host's namespace has no route out)."""
    remote.load_image("debian:bookworm")
    (project.root / "tiny").mkdir()
    (project.root / "tiny" / "Dockerfile").write_text(
        "FROM debian:bookworm\nCOPY hello.txt /hello.txt\nCMD [\"sleep\", \"infinity\"]\n")
    (project.root / "tiny" / "hello.txt").write_text(f"built there {uuid.uuid4()}\n")
    shipped = project.spec()

    def build_there(spec: dict) -> None:
        spec["hosts"][0]["images"] = "build"
        spec["images"] = {"tiny": {"tag": "cdssh-tiny", "dockerfile": "tiny/Dockerfile",
                                   "context": "tiny"}}
        spec["build"] = {"programs": []}
        spec["defaults"].update(image="tiny", command=["sleep", "infinity"],
                                healthcheck={"test": ["NONE"]}, files=[])
        spec["tester"]["container_command"] = ["sleep", "infinity"]
    project.edit_spec(build_there)
    try:
        result = project.deploy()
        builds = [line for line in plan_lines(result, HOST) if line.startswith("build ")]
        assert builds and builds[0].startswith("build cdssh-tiny:"), builds
        hello = remote.docker("exec", f"{NAME}_node1", "cat", "/hello.txt").stdout
        assert hello == (project.root / "tiny" / "hello.txt").read_text()
        assert plan_lines(project.deploy(), HOST) == []  # the hash decides: nothing sent
    finally:
        project.write_spec(shipped)
        project.deploy()


def test_teardown_over_ssh_leaves_the_remote_engine_clean(project: Project,
                                                          remote: RemoteDockerHost) -> None:
    project.teardown()
    assert remote_state(remote) == {}
    assert remote.docker("network", "ls", "-q", "--filter",
                         f"label=io.clusterdeploy.cluster={NAME}").stdout.strip() == ""


def test_pyinfra_cli_host_without_hosts_in_the_spec(project: Project,
                                                    remote: RemoteDockerHost) -> None:
    """pyinfra users name the SSH host on the command line; the spec keeps the default hosts."""
    spec = project.spec()
    spec.pop("hosts")
    cli_spec = project.root / "cli.yml"
    cli_spec.write_text(yaml.safe_dump(spec, sort_keys=False))
    data = remote.pyinfra_data()
    args = [str(REPO / ".venv" / "bin" / "pyinfra"), "-y", remote.address, "{script}",
            "--data", f"state_dir={project.state_dir}"]
    for key in ("ssh_user", "ssh_key", "ssh_known_hosts_file", "ssh_strict_host_key_checking"):
        args += ["--data", f"{key}={data[key]}"]
    env = {**os.environ, "CLUSTER_SPEC": str(cli_spec)}
    for script in ("deploy.py", "teardown.py"):
        result = subprocess.run([a.replace("{script}", script) for a in args], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        if script == "deploy.py":
            assert len(remote_state(remote)) == 6
            assert all(status == "running" for _, status in remote_state(remote).values())
    assert remote_state(remote) == {}

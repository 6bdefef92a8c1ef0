"""Issue 8: a real clustered program nobody here wrote (nats-server from Debian's packages),
deployed from examples/nats with its own image, templates, ports, health check and suite."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import REPO, Project, containers_state, docker, plan_lines, remove_cluster

pytestmark = pytest.mark.docker

NAME = "cdnats"
CLIENT_BASE = 42320


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("nats") / "nats"
    shutil.copytree(REPO / "examples" / "nats", root, ignore=shutil.ignore_patterns("logs"))
    project = Project(root, root.parent / "state")

    def rename(spec: dict) -> None:
        spec["name"] = NAME
        spec["network"] = {"name": f"{NAME}Net", "subnet": "172.28.211.0/24"}
        spec["nodes"]["container_name"] = f"{NAME}_{{i}}"
        spec["nodes"]["publish"]["base"] = CLIENT_BASE
        spec["tester"]["container_name"] = f"{NAME}_tester"
    project.edit_spec(rename)
    yield project
    remove_cluster(NAME)


class NatsClient:
    """The NATS text protocol over a plain socket: enough to publish and subscribe."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.read_until(b"\r\n")  # INFO
        self.send(b'CONNECT {"verbose":false,"pedantic":false}\r\n')

    def send(self, data: bytes) -> None:
        self.sock.sendall(data + b"PING\r\n")
        self.read_until(b"PONG\r\n")  # the server has processed everything before it

    def read_until(self, marker: bytes, timeout: float = 5) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {marker!r} from NATS; got {self.buffer!r}")
            self.buffer += self.sock.recv(4096)
        head, _, self.buffer = self.buffer.partition(marker)
        return head + marker

    def close(self) -> None:
        self.sock.close()


def run_suite(project: Project) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clusterdeploy", "run", "--once", "--spec",
                           str(project.spec_path), "--state-dir", str(project.state_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)


def test_nats_cluster_forms_and_passes_its_own_suite(project: Project) -> None:
    project.deploy()
    state = containers_state(NAME)
    assert all(state[f"{NAME}_{i}"]["health"] == "healthy" for i in (1, 2, 3))
    result = docker("exec", f"{NAME}_tester", "/clusterdeploy/check-routes.sh", check=False)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("ok   nats") == 3 and "2 routes" in result.stdout
    config = docker("exec", f"{NAME}_1", "cat", "/clusterdeploy/nats.conf").stdout
    assert "nats-route://nats2:6222" in config and "max_payload: 1048576" in config


def test_a_message_published_on_one_node_arrives_on_another(project: Project) -> None:
    subject = f"cd.test.{uuid.uuid4().hex[:8]}"
    subscriber, publisher = NatsClient(CLIENT_BASE + 3), NatsClient(CLIENT_BASE + 1)
    try:
        subscriber.send(f"SUB {subject} 1\r\n".encode())
        time.sleep(0.5)  # let the subscription propagate over the routes
        publisher.send(f"PUB {subject} 5\r\nhello\r\n".encode())
        message = subscriber.read_until(b"hello\r\n")
        assert message.startswith(f"MSG {subject} 1 5".encode())
    finally:
        subscriber.close()
        publisher.close()


def test_nats_redeploy_changes_nothing(project: Project) -> None:
    before = containers_state(NAME)
    result = project.deploy()
    assert plan_lines(result) == []
    assert {n: s["id"] for n, s in containers_state(NAME).items()} == \
        {n: s["id"] for n, s in before.items()}


def test_a_fourth_node_joins_the_cluster(project: Project) -> None:
    project.edit_spec(lambda spec: spec["nodes"].update(count=4))
    result = project.deploy()
    assert f"create {NAME}_4: missing" in plan_lines(result)
    suite = run_suite(project)  # the cluster's own suite, through the runner
    assert suite.returncode == 0, suite.stdout + suite.stderr[-2000:]
    assert suite.stdout.count("3 routes") == 4, suite.stdout
    summary = json.loads(((project.root / "logs" / "latest") / "summary.json").read_text())
    assert sorted(summary) == sorted([f"{NAME}_{i}" for i in range(1, 5)] + [f"{NAME}_tester"])
    assert "Server is ready" in Path(project.root / "logs" / "latest" / f"{NAME}_4.log").read_text()

"""Issue 19, part 3: the everyday commands against a real cluster: logs -f, restart, stop/start,
exec (plain and through a pseudo-terminal), ps, the cluster lock, and output into a closed pipe;
logs -f, restart and exec on a remote host over SSH."""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, Project, containers_state, docker, make_project, remove_cluster
from .remote_host import RemoteDockerHost, remote_docker_host_fixture

pytestmark = pytest.mark.docker

NAME = "cdcmd"
PORT_BASE = 41400
SUBNET_THIRD = 214
REMOTE_NAME = "cdcmdr"
ENV = {**{k: v for k, v in os.environ.items() if k not in ("CLUSTER_SPEC", "NO_COLOR")},
       "PYTHONPATH": str(REPO)}

remote = remote_docker_host_fixture(name="cdcmdr", subnet="10.251.0.16/30",
                                    bridge_cidr="10.252.5.1/24", address_pool="10.254.32.0/19")


def small(project: Project, nodes: int) -> None:
    project.edit_spec(lambda spec: spec.update(nodes=spec["nodes"][:nodes]))


@pytest.fixture(scope="module")
def project(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Any:
    remove_cluster(NAME)  # what a killed run left
    project = make_project(tmp_path_factory.mktemp("commands"), NAME, PORT_BASE, SUBNET_THIRD)
    small(project, 3)
    project.deploy()
    yield project
    remove_cluster(NAME)


STATEFUL = ("status", "ps", "stop", "start", "restart")


def cli(project: Project, command: str, *args: str, timeout: float = 120, **options: Any,
        ) -> subprocess.CompletedProcess:
    """`python -m clusterdeploy COMMAND --spec ... [--state-dir ...] ARGS`, output captured."""
    argv = [command, *spec_args(project, command in STATEFUL), *args]
    return subprocess.run([sys.executable, "-m", "clusterdeploy", *argv], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=timeout, **options)


def spec_args(project: Project, state_dir: bool = True) -> list[str]:
    return ["--spec", str(project.spec_path),
            *(["--state-dir", str(project.state_dir)] if state_dir else [])]


def write_to_log(container: str, text: str, docker_cmd: Any = docker) -> None:
    """A line on the container's stdout, as its service would write it (PID 1's stdout)."""
    docker_cmd("exec", container, "sh", "-c", f"printf '%s\\n' {shlex.quote(text)} >/proc/1/fd/1")


class Follow:
    """`clusterdeploy logs -f ...` in the background; its stdout gathered line by line."""

    def __init__(self, project: Project, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clusterdeploy", "logs", "-f", *args, "--spec",
             str(project.spec_path)], cwd=REPO, env=ENV, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.stderr = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if text in line]
            if found:
                return found[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line with {text!r} (exit {self.process.poll()}):\n"
                             + "\n".join(self.lines[-30:]))

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=15)
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()
        return code


def test_logs_node_prints_its_lines_pretty(project: Project) -> None:
    result = cli(project, "logs", "node1")
    assert result.returncode == 0, result.stderr
    listening = [line for line in result.stdout.splitlines() if "listening" in line]
    assert listening, result.stdout
    prefix, _, rest = listening[0].partition(" | ")
    assert prefix == "node1"  # no other node: no padding; not a terminal: no colour
    clock, level, message, *fields = rest.split()
    assert (len(clock), level, message) == (12, "INFO", "listening")
    assert "port=40404" in fields and "\x1b[" not in result.stdout


def test_logs_f_shows_a_line_written_after_it_started_and_stops_on_ctrl_c(
        project: Project) -> None:
    follow = Follow(project, "node2")
    try:
        follow.wait_for("listening")  # what was there before
        marker = f"marker-{uuid.uuid4().hex[:8]}"
        write_to_log(f"{NAME}_node2", json.dumps(
            {"time": "2026-11-28T09:15:02.5Z", "level": "warn", "message": marker,
             "fields": {"k": "v w"}}))
        write_to_log(f"{NAME}_node2", f"plain {marker}")
        assert follow.wait_for(marker) == f'node2 | 09:15:02.500 WARN  {marker} k="v w"'
        assert follow.wait_for(f"plain {marker}") == f"node2 | plain {marker}"
    finally:
        code = follow.interrupt()
    assert code == 0
    assert "Traceback" not in follow.stderr and follow.stderr == ""


def test_restart_node3_leaves_the_others_untouched(project: Project) -> None:
    before = containers_state(NAME)
    follow = Follow(project, "--tail", "0")  # every node, following across the restart
    try:
        time.sleep(1)
        result = cli(project, "restart", "node3")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("node3: stopped in ")
        assert result.stdout.endswith("s, exited 0; started\n")
        after = containers_state(NAME)
        node3 = f"{NAME}_node3"
        assert after[node3]["id"] == before[node3]["id"]
        assert after[node3]["started"] != before[node3]["started"]
        assert after[node3]["status"] == "running"
        assert identities(exclude=node3) == {k: (v["id"], v["started"])
                                             for k, v in before.items() if k != node3}
        # logs -f said so (how depends on whether it looked between the stop and the start),
        # and followed the new run
        said = follow.wait_for("node3  | [")
        assert said in ("node3  | [restarted]", "node3  | [exited with code 0]"), said
        if said.endswith("[exited with code 0]"):
            follow.wait_for("node3  | [started]")
        assert follow.wait_for("config loaded").startswith("node3  | ")
    finally:
        assert follow.interrupt() == 0


def state_of(container: str) -> dict[str, Any]:
    return json.loads(docker("inspect", container).stdout)[0]["State"]


def identities(exclude: str = "") -> dict[str, tuple[str, str]]:
    """Container -> (ID, start time): what a command that leaves a container alone keeps."""
    return {name: (state["id"], state["started"])
            for name, state in containers_state(NAME).items() if name != exclude}


def test_stop_is_graceful_start_brings_it_back_force_kills(project: Project) -> None:
    node2 = f"{NAME}_node2"
    others = identities(exclude=node2)
    try:
        result = cli(project, "stop", "node2")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("node2: stopped in ") and result.stdout.endswith(
            "s, exited 0\n")
        state = state_of(node2)
        assert (state["Status"], state["ExitCode"]) == ("exited", 0)  # not killed at the end
        assert cli(project, "stop", "node2").stdout == "node2: not running (exited 0)\n"
        assert identities(exclude=node2) == others

        result = cli(project, "start", "node2")
        assert (result.returncode, result.stdout) == (0, "node2: started\n")
        assert state_of(node2)["Status"] == "running"
        assert cli(project, "start", "node2").stdout == "node2: already running\n"

        result = cli(project, "stop", "node2", "--force")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("node2: killed in ") and result.stdout.endswith(
            "s, exit code 137\n")
        assert state_of(node2)["ExitCode"] == 137
        assert cli(project, "start", node2).stdout == "node2: started\n"  # a container name
        assert identities(exclude=node2) == others
    finally:
        if state_of(node2)["Status"] != "running":
            docker("start", node2)


def test_start_of_a_node_the_cluster_does_not_have_says_to_deploy(project: Project) -> None:
    spec = project.spec()
    spec["nodes"].append({**spec["nodes"][-1], "name": "node4", "hostname": "node4",
                          "container_name": f"{NAME}_node4",
                          "ports": [f"127.0.0.1:{PORT_BASE + 4}:40404"]})
    bigger = project.root / "bigger.yml"
    bigger.write_text(json.dumps(spec))
    result = subprocess.run([sys.executable, "-m", "clusterdeploy", "start", "node4", "--spec",
                             str(bigger), "--state-dir", str(project.state_dir)], cwd=REPO,
                            env=ENV, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"local: cluster {NAME} has no container for node4 ({NAME}_node4) "
                             "(deploy it first: `clusterdeploy deploy`)\n")


def test_node_commands_take_the_cluster_lock(project: Project) -> None:
    lock = project.state_dir / ".clusterdeploy-locks" / NAME
    lock.mkdir(parents=True)
    holder = {"token": "t" * 32, "user": "ci", "machine": "elsewhere/0123456789ab", "pid": 1,
              "started": "1", "command": "clusterdeploy deploy",
              "since": "2026-11-28T09:00:00+00:00"}
    (lock / "holder").write_text(json.dumps(holder))
    before = identities()
    try:
        result = cli(project, "restart", "node1", "--lock-timeout", "1")
    finally:
        (lock / "holder").unlink()
        lock.rmdir()
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "local: the cluster is locked by ci@elsewhere (pid 1, `clusterdeploy deploy`) since "
        "2026-11-28T09:00:00+00:00; waited 1 s (wait for it, raise --data lock_timeout=SECONDS, "
        "or `clusterdeploy lock release` if it is gone)")
    assert identities() == before


def test_exec_prints_the_replica_table_and_passes_exit_code_and_stdin(project: Project) -> None:
    result = cli(project, "exec", "node1", "--", "cat", "/root/Cluster.config",
                 stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    assert table == [f"node{i} 172.28.{SUBNET_THIRD}.{i + 1} 40404" for i in range(1, 4)]
    assert cli(project, "exec", "node2", "--", "sh", "-c", "exit 7",
               stdin=subprocess.DEVNULL).returncode == 7
    piped = cli(project, "exec", f"{NAME}_node3", "--", "tr", "a-z", "A-Z", input="hello\n")
    assert (piped.returncode, piped.stdout) == (0, "HELLO\n")


def interactive(argv: list[str], env: dict[str, str], keys: bytes,
                until: bytes, timeout: float = 60) -> tuple[int, bytes]:
    """Run argv on a pseudo-terminal, type `keys` once it shows `until`, read everything
    until it exits; (exit code, what the terminal showed)."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdin=secondary, stdout=secondary,
                               stderr=secondary, start_new_session=True)
    os.close(secondary)
    shown = b""
    deadline = time.monotonic() + timeout
    typed = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # the other side is closed: it ended
                    break
                if not chunk:
                    break
                shown += chunk
            if not typed and until in shown:
                os.write(primary, keys)
                typed = True
            if process.poll() is not None and not ready:
                break
        return process.wait(timeout=10), shown
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)


def test_interactive_exec_through_a_pseudo_terminal(project: Project) -> None:
    code, shown = interactive(
        [sys.executable, "-m", "clusterdeploy", "exec", *spec_args(project, False), "node1",
         "--", "sh", "-c", "tty; echo ready; read answer; echo got-$answer; exit 3"],
        ENV, b"forty-two\r", until=b"ready")
    assert code == 3, shown
    assert b"/dev/pts/" in shown  # the command has a terminal
    assert b"got-forty-two" in shown


def test_status_into_a_closed_pipe_is_quiet(project: Project) -> None:
    args = " ".join(["python", "-m", "clusterdeploy", "status", "--json",
                     *spec_args(project)])
    script = (f"{args} | head -1; echo \"status=${{PIPESTATUS[0]}}\"; "
              f"{args} | head -c 0; echo \"status=${{PIPESTATUS[0]}}\"")
    result = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True,
                            env={**ENV, "PATH": f"{Path(sys.executable).parent}:{ENV['PATH']}"},
                            timeout=120)
    assert result.stderr == ""
    first, whole, closed = result.stdout.splitlines()
    assert first == "["  # what head -1 printed
    assert whole in ("status=0", "status=141")  # all written before head exited, or not
    assert closed == "status=141"  # head -c 0 is gone before the first write


def test_logs_f_into_head_ends_when_head_does(project: Project) -> None:
    """The tester writes nothing after its one line: only noticing the closed pipe while idle
    (as tail -f does) ends the follow."""
    write_to_log(f"{NAME}_tester", "the only line")
    command = (f"python -m clusterdeploy logs -f tester --tail 1 --spec {project.spec_path} "
               "| head -1; echo \"status=${PIPESTATUS[0]}\"")
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True,
                            env={**ENV, "PATH": f"{Path(sys.executable).parent}:{ENV['PATH']}"},
                            timeout=60)
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["tester | the only line", "status=141"]


def test_ps_is_status(project: Project) -> None:
    status = cli(project, "status", "--json")
    ps = cli(project, "ps", "--json")
    assert status.returncode == ps.returncode == 0
    assert json.loads(ps.stdout) == json.loads(status.stdout)
    assert len(json.loads(ps.stdout)) == 4


# ---- a remote host over SSH: logs -f and exec through the Engine's relay ----

@pytest.fixture(scope="module")
def remote_project(project: Project, remote: RemoteDockerHost,
                   tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Two nodes on the remote host, running the node image the local cluster was built
    with (loaded there: nothing to build or ship)."""
    remote.load_image("my-db:latest")
    remote_project = make_project(tmp_path_factory.mktemp("remote"), REMOTE_NAME, PORT_BASE,
                                  SUBNET_THIRD)

    def to_remote(spec: dict[str, Any]) -> None:
        spec["hosts"] = [{"name": "lab", "images": "ship", "ssh": {
            "address": remote.address, "user": "root", "port": remote.ssh_port,
            "key": str(remote.client_key), "known_hosts": str(remote.known_hosts)}}]
        spec["images"] = {}
        spec["build"] = {"programs": []}
        spec["defaults"]["image"] = "my-db:latest"
        spec["nodes"] = spec["nodes"][:2]
        spec["tester"]["enabled"] = False
    remote_project.edit_spec(to_remote)
    remote_project.deploy()
    return remote_project


def test_remote_logs_f_restart_and_exec(remote_project: Project, remote: RemoteDockerHost) -> None:
    follow = Follow(remote_project, "node2")
    try:
        follow.wait_for("listening")
        marker = f"remote-{uuid.uuid4().hex[:8]}"
        write_to_log(f"{REMOTE_NAME}_node2", marker, docker_cmd=remote.docker)
        assert follow.wait_for(marker) == f"node2 | {marker}"
    finally:
        assert follow.interrupt() == 0
    assert follow.stderr == ""

    before = remote.docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}}",
                           f"{REMOTE_NAME}_node1", f"{REMOTE_NAME}_node2").stdout.splitlines()
    result = cli(remote_project, "restart", "node2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("node2: stopped in ")
    after = remote.docker("inspect", "-f", "{{.Id}} {{.State.StartedAt}}",
                          f"{REMOTE_NAME}_node1", f"{REMOTE_NAME}_node2").stdout.splitlines()
    assert after[0] == before[0] and after[1] != before[1]

    result = cli(remote_project, "exec", "node1", "--", "cat", "/root/Cluster.config",
                 stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if not line.startswith("#")]
    assert table == [f"node{i} 172.28.{SUBNET_THIRD}.{i + 1} 40404" for i in range(1, 3)]
    code, shown = interactive(
        [sys.executable, "-m", "clusterdeploy", "exec", *spec_args(remote_project, False),
         "node2", "--", "sh", "-c", "tty; echo ready; read answer; echo got-$answer; exit 4"],
        ENV, b"over-ssh\r", until=b"ready")
    assert code == 4, shown
    assert b"/dev/pts/" in shown and b"got-over-ssh" in shown

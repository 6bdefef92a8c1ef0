"""The remote-host harness (issue 6): a second engine and an sshd in a namespace, for real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .remote_host import (
    HarnessError,
    RemoteDockerHost,
    generate_key,
    remote_docker_host_fixture,
    requirements_problem,
)

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
IMAGE = "my-db:latest"
PORT = 40404
# A second harness, started next to the module's one, for the stop / kill -9 checks.
KILLED = {"name": "cdremotek", "subnet": "10.251.0.4/30", "bridge_cidr": "10.252.1.1/24",
          "address_pool": "10.254.0.0/16"}

remote = remote_docker_host_fixture(name="cdremote")


def fail_or_skip(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def local_docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check,
                          timeout=120, env=env)


def wait_for(check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {check}")
        time.sleep(0.2)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def node(remote: RemoteDockerHost) -> Iterator[str]:
    """my-db:latest shipped to the test host and a node of it running there."""
    if local_docker("image", "inspect", IMAGE, check=False).returncode != 0:
        fail_or_skip(f"the local engine has no {IMAGE} (built by the image tests or a deploy)")
    seconds = remote.load_image(IMAGE)
    print(f"\nload_image({IMAGE}): {seconds:.2f}s")
    name = "cdremote-node"
    remote.ssh(f"docker run -d --init --name {name} -p {remote.address}:{PORT}:{PORT} {IMAGE}")
    wait_for(lambda: http_ok(f"http://{remote.address}:{PORT}/ping"))
    yield name
    remote.docker("rm", "-f", name, check=False)


def pyinfra_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line.strip() for line in (result.stdout + result.stderr).splitlines()]


def test_ssh_docker_talks_to_the_namespace_engine(remote: RemoteDockerHost) -> None:
    root = remote.ssh("docker info --format '{{.DockerRootDir}}'").stdout.strip()
    assert root == str(remote.data_root) != "/var/lib/docker"
    assert remote.ssh("echo $DOCKER_HOST").stdout.strip() == remote.docker_host
    assert remote.docker("info", "--format", "{{.DockerRootDir}}").stdout.strip() == root
    local_root = local_docker("info", "--format", "{{.DockerRootDir}}").stdout.strip()
    assert local_root != root
    # the SSH session lives in the namespace: its only global address is the test host's
    addresses = remote.ssh("ip -4 -o addr show scope global").stdout
    assert f"{remote.address}/30" in addresses and "eth0" not in addresses


def test_container_there_is_not_seen_by_the_local_engine(remote: RemoteDockerHost,
                                                         node: str) -> None:
    there = remote.ssh("docker ps --format '{{.Names}}'").stdout.split()
    assert node in there
    here = local_docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert node not in here


def test_loaded_image_answers_ping(remote: RemoteDockerHost, node: str) -> None:
    inside = remote.docker("exec", node, "curl", "-fsS", f"http://127.0.0.1:{PORT}/ping")
    assert json.loads(inside.stdout)["ok"] is True
    # the published port, on the namespace address, from the namespace and from here
    from_ns = remote.in_namespace("curl", "-fsS", f"http://{remote.address}:{PORT}/ping")
    assert json.loads(from_ns.stdout)["ok"] is True
    with urllib.request.urlopen(f"http://{remote.address}:{PORT}/ping", timeout=3) as response:
        assert json.loads(response.read())["ok"] is True


def test_wrong_key_and_unknown_host_key_are_refused(remote: RemoteDockerHost,
                                                    tmp_path: Path) -> None:
    wrong = generate_key(tmp_path / "wrong_ed25519")
    result = remote.ssh("true", key=wrong, check=False)
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    argv = remote.ssh_argv("true", known_hosts=empty)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr


def test_pyinfra_runs_over_ssh_with_the_written_known_hosts(remote: RemoteDockerHost,
                                                            tmp_path: Path) -> None:
    upload_dir = remote.run_dir / "uploads"
    deploy = tmp_path / "deploy.py"
    info = upload_dir / "root-dir"
    deploy.write_text(
        "from pyinfra.operations import files, server\n"
        f"files.directory(name='dir', path={str(upload_dir)!r})\n"
        "server.shell(name='docker info', commands=[\n"
        f"    \"docker info --format '{{{{.DockerRootDir}}}}' > {info}\"])\n"
        f"files.put(name='upload', src={str(deploy)!r}, dest={str(upload_dir / 'x.py')!r})\n"
    )
    began = time.monotonic()
    remote.pyinfra(str(deploy), cwd=tmp_path)
    print(f"\npyinfra deploy over SSH (3 operations): {time.monotonic() - began:.2f}s")
    # the remote host shares this machine's filesystem: what the deploy did is visible here
    assert info.read_text().strip() == str(remote.data_root)
    assert (upload_dir / "x.py").read_text() == deploy.read_text()  # SFTP works
    assert remote.known_hosts.read_text().count("\n") == 1  # strict: nothing was added


def test_pyinfra_wrong_key_is_one_authentication_error_line(remote: RemoteDockerHost,
                                                            tmp_path: Path) -> None:
    wrong = generate_key(tmp_path / "wrong_ed25519")
    inventory = remote.write_inventory(tmp_path / "inventory.py", key=wrong)
    result = remote.pyinfra("exec", "--", "true", inventory=inventory, check=False)
    assert result.returncode != 0
    expected = (f"[{remote.address}] Authentication error (username=root, key={wrong}) "
                "(Authentication failed.)")
    assert expected in pyinfra_lines(result), result.stdout + result.stderr
    assert "--> pyinfra error: No hosts remaining!" in pyinfra_lines(result)


def test_pyinfra_stopped_sshd_is_one_connection_error_line(remote: RemoteDockerHost) -> None:
    remote.stop_sshd()
    try:
        result = remote.pyinfra("exec", "--", "true", check=False)
        assert result.returncode != 0
        expected = (f"[{remote.address}] Could not connect ([Errno None] Unable to connect to "
                    f"port {remote.ssh_port} on {remote.address})")
        assert expected in pyinfra_lines(result), result.stdout + result.stderr
    finally:
        remote.start_sshd()
    assert remote.ssh("true").returncode == 0


def test_a_second_harness_of_the_same_name_is_refused(remote: RemoteDockerHost) -> None:
    with pytest.raises(HarnessError, match="is running"):
        RemoteDockerHost(name=remote.name).up()
    assert remote.docker("info", "--format", "{{.DockerRootDir}}").stdout.strip() == str(
        remote.data_root)


def test_ssh_command_cost(remote: RemoteDockerHost) -> None:
    """Recorded, not asserted tightly: a new SSH connection per command, root's shell rc."""
    began = time.monotonic()
    for _ in range(5):
        remote.ssh("true")
    per_command = (time.monotonic() - began) / 5
    print(f"\nssh per command: {per_command:.3f}s; harness: {remote.timings}")
    assert per_command < 5


KILLED_CHILD = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.integration.remote_host import RemoteDockerHost
remote = RemoteDockerHost({workdir!r}, **{options!r}).up()
remote.load_image("debian:bookworm")
remote.docker("run", "-d", "--init", "-p", remote.address + ":8080:8080", "debian:bookworm",
              "sleep", "infinity")
print("READY", flush=True)
time.sleep(600)
"""


def test_killed_run_is_cleaned_up_and_stop_leaves_nothing(tmp_path: Path) -> None:
    problem = requirements_problem()
    if problem:
        fail_or_skip(problem)
    name = KILLED["name"]
    RemoteDockerHost.cleanup_leftovers(name)
    code = KILLED_CHILD.format(repo=str(REPO), workdir=str(tmp_path / "killed"), options=KILLED)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.strip() == "READY", line + (child.stderr.read() if child.stderr else "")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    left = RemoteDockerHost.leftovers(name)
    assert any(item.startswith("network namespace") for item in left), left
    assert any("dockerd" in item for item in left), left
    assert any("sleep infinity" in item for item in left), left  # the container survived

    with RemoteDockerHost.start(tmp_path / "again", **KILLED) as again:
        assert again.docker("ps", "-aq").stdout.split() == []  # a fresh engine
        assert "debian" not in again.docker("images").stdout
        assert again.ssh("docker info --format '{{.DockerRootDir}}'").stdout.strip() == str(
            again.data_root)
        dockerd_pid = int(again.dockerd_pidfile.read_text())
        sshd_pid = int(again.sshd_pidfile.read_text())
    print(f"\nharness after kill -9: {again.timings}")
    assert RemoteDockerHost.leftovers(name) == []
    assert not Path(f"/run/netns/{name}").exists()
    assert not Path(f"/sys/class/net/{name}0").exists()
    for pid in (dockerd_pid, sshd_pid):
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text(
        ).rsplit(")", 1)[-1].split()[0]
    assert not RemoteDockerHost.run_dir_for(name).exists()
    assert not RemoteDockerHost.lock_path_for(name).exists()

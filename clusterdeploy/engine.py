"""Docker access for the lifecycle commands (run, logs, status, teardown's log collection).

The Docker SDK serves where the CLI's output parses badly: streaming logs and exec output, exit
codes, parallel stops. Nothing here assumes the engine is local: a remote host is reached with
an `ssh://` base URL. The SDK runs the `ssh` binary for that; a small wrapper put first on PATH
gives it the spec's key and known_hosts file, with host-key checking strict.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
from docker.models.containers import Container

from . import labels
from .errors import DeployError
from .spec import Host, SSHAccess


def ssh_options(ssh: SSHAccess) -> list[str]:
    """Options for the `ssh` binary: the spec's key and known_hosts, nothing else accepted."""
    options = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
               "-o", "ConnectTimeout=10"]
    if ssh.key:
        options += ["-o", "IdentitiesOnly=yes", "-i", str(ssh.key)]
    if ssh.known_hosts:
        options += ["-o", f"UserKnownHostsFile={ssh.known_hosts}"]
    return options


_wrappers: dict[SSHAccess, Path] = {}


def _install_ssh_wrapper(ssh: SSHAccess) -> None:
    if ssh in _wrappers:
        return
    real = shutil.which("ssh")
    if real is None:
        raise DeployError(f"{ssh.address}: no ssh client on this machine (install openssh-client)")
    directory = Path(tempfile.mkdtemp(prefix="clusterdeploy-ssh-"))
    wrapper = directory / "ssh"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.join([real, *ssh_options(ssh)])} \"$@\"\n")
    wrapper.chmod(0o755)
    os.environ["PATH"] = f"{directory}{os.pathsep}{os.environ.get('PATH', '')}"
    _wrappers[ssh] = directory


def client_for(host: Host | None = None) -> docker.DockerClient:
    """A client for the local engine (DOCKER_HOST or the default socket) or the host's."""
    where = "the local engine" if host is None or host.ssh is None else host.name
    try:
        if host is None or host.ssh is None:
            return docker.from_env()
        _install_ssh_wrapper(host.ssh)
        url = f"ssh://{host.ssh.user}@{host.ssh.address}:{host.ssh.port}"
        return docker.DockerClient(base_url=url, use_ssh_client=True)
    except docker.errors.DockerException as exc:
        raise DeployError(f"{where}: cannot talk to Docker: {exc}") from None


def run_script(host: Host | None, script: str) -> subprocess.CompletedProcess:
    """Run a shell script on the host (locally, or over ssh with the spec's key)."""
    if host is None or host.ssh is None:
        argv = ["sh", "-s"]
    else:
        argv = ["ssh", *ssh_options(host.ssh), "-p", str(host.ssh.port), "-l", host.ssh.user,
                "--", host.ssh.address, "sh -s"]
    return subprocess.run(argv, input=script, capture_output=True, text=True, check=False)


def cluster_containers(client: docker.DockerClient, cluster: str) -> list[Container]:
    """Every container labelled with the cluster, running or not, sorted by name."""
    found = client.containers.list(all=True, filters={"label": f"{labels.CLUSTER}={cluster}"})
    return sorted(found, key=lambda c: c.name)

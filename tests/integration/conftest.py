"""Integration harness: the real Docker engine, real images, real containers, real HTTP.

Each test project is a copy of the repository's spec and build context in a temporary
directory, deployed with the real `pyinfra -y inventory.py deploy.py` from the repository root.
In CI (CI=true) a missing engine fails the run; it is never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLUSTER_LABEL = "io.clusterdeploy.cluster"
# Clusters the tests create; leftovers of a killed run are removed by label at session start.
TEST_CLUSTERS = ("ci", "cdtest", "cdimg", "cdfail", "cdrun", "cdforce", "cdnats", "cdreport",
                 "cdfault", "cdfaultn")


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check,
                          timeout=timeout)


def remove_cluster(name: str) -> None:
    """Remove a cluster's containers and networks by label (never by name)."""
    ids = docker("ps", "-aq", "--filter", f"label={CLUSTER_LABEL}={name}").stdout.split()
    if ids:
        docker("rm", "-f", *ids, check=False)
    nets = docker("network", "ls", "-q", "--filter", f"label={CLUSTER_LABEL}={name}").stdout.split()
    if nets:
        docker("network", "rm", *nets, check=False)


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    if docker("info", check=False, timeout=30).returncode != 0:
        message = "no Docker engine answers `docker info` (scripts/test.sh starts one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    for name in TEST_CLUSTERS:
        remove_cluster(name)
    yield


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def wait_for(check: Callable[[], bool], timeout: float = 30, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        time.sleep(interval)


@dataclass
class Project:
    """A spec and its build context in a temporary directory, deployed for real."""

    root: Path
    state_dir: Path

    @property
    def spec_path(self) -> Path:
        return self.root / "cluster.yml"

    def spec(self) -> dict[str, Any]:
        return yaml.safe_load(self.spec_path.read_text())

    def write_spec(self, spec: dict[str, Any]) -> None:
        self.spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))

    def edit_spec(self, change: Callable[[dict[str, Any]], None]) -> None:
        spec = self.spec()
        change(spec)
        self.write_spec(spec)

    def pyinfra(self, script: str = "deploy.py", *extra: str, check: bool = True,
                timeout: float = 900, **data: str) -> subprocess.CompletedProcess:
        args = [str(BIN / "pyinfra"), "-y", "inventory.py", script,
                "--data", f"state_dir={self.state_dir}", *extra]
        for key, value in data.items():
            args += ["--data", f"{key}={value}"]
        env = {**os.environ, "CLUSTER_SPEC": str(self.spec_path)}
        result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"pyinfra {script} failed ({result.returncode}):\n"
                                 f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
        return result

    def deploy(self, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess:
        return self.pyinfra("deploy.py", *extra, **kwargs)

    def teardown(self, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess:
        return self.pyinfra("teardown.py", *extra, **kwargs)


def plan_lines(result: subprocess.CompletedProcess, host: str = "@local") -> list[str]:
    """The plan actions a deploy printed for a host (`kind target: cause`)."""
    prefix = f"[{host}]   "
    return [line.strip()[len(prefix):] for line in (result.stdout + result.stderr).splitlines()
            if line.strip().startswith(prefix)]


def containers_state(cluster: str) -> dict[str, dict[str, Any]]:
    """name -> {id, started, status, health} for every container of the cluster."""
    ids = docker("ps", "-aq", "--filter", f"label={CLUSTER_LABEL}={cluster}").stdout.split()
    if not ids:
        return {}
    data = json.loads(docker("inspect", *ids).stdout)
    return {
        c["Name"].lstrip("/"): {
            "id": c["Id"],
            "started": c["State"]["StartedAt"],
            "status": c["State"]["Status"],
            "health": (c["State"].get("Health") or {}).get("Status"),
        }
        for c in data
    }


def copy_project(destination: Path) -> Path:
    """The repository's spec and build context (what .dockerignore keeps, and templates)."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "cmd", destination / "cmd")
    shutil.copytree(REPO / "docker-test", destination / "docker-test",
                    ignore=shutil.ignore_patterns("logs"))
    shutil.copy(REPO / ".dockerignore", destination / ".dockerignore")
    shutil.copy(REPO / "cluster.yml", destination / "cluster.yml")
    return destination


def make_project(tmp: Path, name: str, port_base: int, subnet_third: int) -> Project:
    """A copy of the default cluster renamed so it cannot collide with a user's own cluster."""
    project = Project(copy_project(tmp / "project"), tmp / "state")

    def rename(spec: dict[str, Any]) -> None:
        spec["name"] = name
        spec["network"] = {"name": f"{name}Net", "subnet": f"172.28.{subnet_third}.0/24"}
        for i, node in enumerate(spec["nodes"], start=1):
            node["container_name"] = f"{name}_node{i}"
            node["ports"] = [f"127.0.0.1:{port_base + i}:40404"]
        spec["tester"]["container_name"] = f"{name}_tester"

    project.edit_spec(rename)
    return project

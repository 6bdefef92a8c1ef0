"""Issue 14: clusterdeploy used from a user's own repository, as a new user would.

The wheel is built from the checkout and installed into a fresh virtualenv; every command then
runs from a temporary project directory, with the checkout out of reach (not the working
directory, not on PYTHONPATH, not installed in that virtualenv). The commands are the README's
("Use it in your repository"): a test below holds the README to them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import CLUSTER_LABEL, REPO, containers_state, docker, http_get, remove_cluster

pytestmark = pytest.mark.docker

NAME = "cdinit"
SUBNET = "172.28.217.0/24"
STATE = Path("/var/lib/clusterdeploy") / NAME  # the default state_dir: the README's commands
# The user's service: an HTTP server from a Debian package, in a three-line Dockerfile.
USER_DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends webfs curl
CMD ["webfsd", "-F", "-p", "8080", "-r", "/usr/share/doc"]
"""
# The README's commands, in the order the README shows them; init gets the options that keep
# this test apart from other clusters on the engine.
INIT = "clusterdeploy init --nodes 3 --port 8080"
OWN_OPTIONS = f" --name {NAME} --subnet {SUBNET} --publish "
BUILD = "python3 -m pip wheel --no-deps -w dist ."
INSTALL = "pip install dist/clusterdeploy-*.whl"
README_COMMANDS = [
    BUILD,
    "python3 -m venv",
    INSTALL,
    INIT,
    "clusterdeploy validate",
    "pyinfra -y inventory.py deploy.py",
    "./run_tests.sh --once",
    "clusterdeploy status",
    "pyinfra -y inventory.py teardown.py",
    "clusterdeploy deploy",
    "clusterdeploy run --once",
    "clusterdeploy teardown",
]


@dataclass
class Installed:
    venv: Path
    wheel: Path

    def env(self) -> dict[str, str]:
        """A user's shell with the virtualenv activated; nothing points at the checkout."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "CLUSTER_SPEC", "VIRTUAL_ENV")}
        path = [p for p in env.get("PATH", "").split(os.pathsep)
                if p and not Path(p).resolve().is_relative_to(REPO) and ".venv" not in p]
        env.update(PATH=os.pathsep.join([str(self.venv / "bin"), *path]),
                   VIRTUAL_ENV=str(self.venv))
        return env

    def sh(self, command: str, cwd: Path, expect: int = 0,
           timeout: float = 900) -> subprocess.CompletedProcess:
        """One command line, as typed in the project directory."""
        assert not cwd.resolve().is_relative_to(REPO)
        result = subprocess.run(["bash", "-c", command], cwd=cwd, env=self.env(),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != expect:
            raise AssertionError(f"`{command}` exited {result.returncode}, not {expect}:\n"
                                 f"{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
        return result


def _timed(what: str, started: float) -> None:
    print(f"{what}: {time.monotonic() - started:.1f}s")


@pytest.fixture(scope="module")
def installed(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The wheel built from a clean copy of the checkout, installed into a fresh virtualenv."""
    remove_cluster(NAME)
    shutil.rmtree(STATE, ignore_errors=True)
    root = tmp_path_factory.mktemp("wheel")
    source = root / "clusterdeploy"  # a clean copy: no build/ or egg-info left in the checkout
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "logs",
        ".pytest_cache", ".ruff_cache", ".mypy_cache"))
    started = time.monotonic()
    # The project's interpreter stands in for the README's python3 (which needs pip).
    subprocess.run(BUILD.replace("python3", sys.executable, 1), shell=True, cwd=source,
                   check=True, capture_output=True, timeout=600)
    (wheel,) = (source / "dist").glob("clusterdeploy-*.whl")
    _timed(f"wheel {wheel.name} ({wheel.stat().st_size // 1024} KiB)", started)
    started = time.monotonic()
    venv = root / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=300)
    tools = Installed(venv, wheel)
    tools.sh(f"{INSTALL} -q", cwd=source, timeout=900)
    _timed("fresh virtualenv with the wheel and its dependencies", started)
    yield tools
    remove_cluster(NAME)
    shutil.rmtree(STATE, ignore_errors=True)


def _tree(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_checkout_is_out_of_reach(installed: Installed, tmp_path: Path) -> None:
    found = installed.sh("python -c 'import clusterdeploy, sys; print(clusterdeploy.__file__); "
                         "print(sys.path)'", cwd=tmp_path).stdout
    assert found.startswith(str(installed.venv)), found
    assert str(REPO) not in found
    assert installed.sh("command -v clusterdeploy pyinfra", cwd=tmp_path).stdout.split() == [
        str(installed.venv / "bin" / "clusterdeploy"), str(installed.venv / "bin" / "pyinfra")]
    version = installed.sh("clusterdeploy --version", cwd=tmp_path).stdout
    assert version == f"clusterdeploy {installed.wheel.name.split('-')[1]}\n"


def test_from_your_repository_to_a_tested_cluster_and_back(installed: Installed,
                                                           tmp_path: Path) -> None:
    """The README's walk: init beside the user's Dockerfile, validate, deploy, redeploy
    (nothing changes), the suite querying every node, status, teardown; init again."""
    project = tmp_path / "myservice"
    project.mkdir()
    (project / "Dockerfile").write_text(USER_DOCKERFILE)

    init = installed.sh(f"{INIT}{OWN_OPTIONS}41700", cwd=project).stdout
    assert "note: the nodes' command is Dockerfile's CMD: webfsd -F -p 8080 -r /usr/share/doc" \
        in init
    assert "  wrote    inventory.py" in init.splitlines()
    assert not any(line.startswith("  wrote    Dockerfile") for line in init.splitlines())
    assert installed.sh("clusterdeploy validate", cwd=project).stdout == (
        f"cluster.yml: valid: cluster {NAME}, 3 nodes (node1, node2, node3), network "
        f"{NAME}-net {SUBNET}\n")

    started = time.monotonic()
    installed.sh("pyinfra -y inventory.py deploy.py", cwd=project)
    _timed("first deploy (build included)", started)
    state = containers_state(NAME)
    assert sorted(state) == [f"{NAME}_node{i}" for i in (1, 2, 3)] + [f"{NAME}_tester"]
    assert all(state[f"{NAME}_node{i}"]["health"] == "healthy" for i in (1, 2, 3))
    for i in (1, 2, 3):
        assert http_get(f"http://127.0.0.1:{41700 + i}/")[0] == 200

    again = installed.sh("pyinfra -y inventory.py deploy.py", cwd=project)
    assert f"plan: cluster {NAME} is up to date (4 containers)" in again.stdout + again.stderr
    assert containers_state(NAME) == state  # same IDs, same start times

    status = installed.sh("clusterdeploy status", cwd=project).stdout.splitlines()
    assert len(status) == 5 and all(row.rstrip().endswith("in sync") for row in status[1:])

    suite = installed.sh("./run_tests.sh --once", cwd=project)
    for i in (1, 2, 3):
        assert f"ok   node{i} answers on http://node{i}:8080/" in suite.stdout
    assert "[clusterdeploy] suite passed" in suite.stderr
    assert "ok   node3" in (project / "docker-test/logs/latest/suite.log").read_text()

    installed.sh("pyinfra -y inventory.py teardown.py", cwd=project)
    assert containers_state(NAME) == {}
    assert docker("network", "ls", "-q", "--filter",
                  f"label={CLUSTER_LABEL}={NAME}").stdout.strip() == ""
    assert not STATE.exists()

    before = _tree(project)
    again_init = installed.sh(f"{INIT}{OWN_OPTIONS}41700", cwd=project, expect=1)
    assert again_init.stderr == (f"{project}/cluster.yml: already exists; nothing written (init "
                                 "never overwrites a file: edit it, or init another "
                                 "directory)\n")
    assert _tree(project) == before


def test_a_directory_without_entry_scripts_uses_the_package_s(installed: Installed,
                                                              tmp_path: Path) -> None:
    """The starter Dockerfile as init writes it, and only the spec and templates: deploy, run
    and teardown through the CLI with the package's inventory.py, deploy.py, teardown.py."""
    project = tmp_path / "bare"
    installed.sh(f"clusterdeploy init bare{OWN_OPTIONS}41710", cwd=tmp_path)
    for name in ("inventory.py", "deploy.py", "teardown.py", "group_data/all.py"):
        (project / name).unlink()
    installed.sh("clusterdeploy deploy", cwd=project)
    for i in (1, 2, 3):
        assert http_get(f"http://127.0.0.1:{41710 + i}/")[1] == "hello from clusterdeploy\n"
    run = installed.sh("clusterdeploy run --once", cwd=project)
    assert run.stdout.count(" answers on http://node") == 3
    installed.sh("clusterdeploy teardown", cwd=project)
    assert containers_state(NAME) == {}


def test_the_readme_shows_these_commands() -> None:
    readme = (REPO / "README.md").read_text()
    headings = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert headings[0] == "Use it in your repository"
    section = readme.split("## Use it in your repository", 1)[1].split("\n## ", 1)[0]
    positions = [section.find(command) for command in README_COMMANDS]
    assert -1 not in positions, [c for c, p in zip(README_COMMANDS, positions, strict=True)
                                 if p == -1]
    assert positions == sorted(positions)

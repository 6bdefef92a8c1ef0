"""`clusterdeploy init`, `deploy`, `teardown` and `--version` as the user sees them."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata

import pytest
from unitlib import REPO

from clusterdeploy import cli
from clusterdeploy.packagedata import package_path


def run(*args, cwd):
    environment = {k: v for k, v in os.environ.items() if k != "CLUSTER_SPEC"}
    environment.update(PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "clusterdeploy", *args], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=60)


def test_version():
    result = run("--version", cwd=REPO)
    assert (result.returncode, result.stdout) == (
        0, f"clusterdeploy {metadata.version('clusterdeploy')}\n")


def test_init_lists_what_it_wrote_validates_and_prints_the_next_steps(tmp_path):
    result = run("init", "svc", "--nodes", "2", "--port", "9000", "--publish", "41710",
                 "--subnet", "172.28.217.0/24", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == f"clusterdeploy init: {tmp_path / 'svc'}"
    assert lines[1] == "  wrote    cluster.yml"
    assert lines[2] == ("  wrote    Dockerfile  (a starter: busybox's HTTP server; replace it "
                        "with your service)")
    assert len([line for line in lines if line.startswith("  wrote ")]) == 14
    assert f"{tmp_path / 'svc' / 'cluster.yml'}: valid: cluster svc, 2 nodes (node1, node2), " \
           "network svc-net 172.28.217.0/24" in lines
    assert lines[lines.index("next steps:") + 1:] == [
        "  cd svc",
        "  $EDITOR Dockerfile cluster.yml   # your service: its image, command, ports",
        "  clusterdeploy validate",
        "  pyinfra -y inventory.py deploy.py",
        "  ./run_tests.sh --once            # the suite: docker-test/templates/check.sh.j2",
        "  pyinfra -y inventory.py teardown.py",
    ]
    validated = run("validate", cwd=tmp_path / "svc")
    assert validated.stdout.startswith("cluster.yml: valid: cluster svc, 2 nodes")


def test_init_lists_what_it_skipped(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM debian:bookworm\nCMD ["srv", "-p", "8080"]\n')
    (tmp_path / "deploy.py").write_text("# mine\n")
    result = run("init", "--name", "mine", cwd=tmp_path)
    assert result.returncode == 0
    assert "  skipped  deploy.py  (already there; left as it is)" in result.stdout.splitlines()
    assert "note: the nodes' command is Dockerfile's CMD: srv -p 8080" in result.stdout
    assert "cd " not in result.stdout  # already there
    assert (tmp_path / "deploy.py").read_text() == "# mine\n"


def test_init_again_changes_nothing_and_says_so(tmp_path):
    assert run("init", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run("init", "--nodes", "5", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"{tmp_path}/cluster.yml: already exists; nothing written (init "
                             "never overwrites a file: edit it, or init another directory)\n")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_init_usage_errors_exit_2(tmp_path):
    result = run("init", "--image", "nginx:latest", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("clusterdeploy init: --image needs --command")
    both = run("init", "--image", "x", "--dockerfile", "Dockerfile", cwd=tmp_path)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def calls(monkeypatch):
    """What `deploy` and `teardown` would run: (command, CLUSTER_SPEC)."""
    seen = []

    def call(command, env):
        seen.append((command, env.get("CLUSTER_SPEC")))
        return 0
    monkeypatch.setattr(subprocess, "call", call)
    monkeypatch.delenv("CLUSTER_SPEC", raising=False)
    return seen


def test_deploy_and_teardown_run_pyinfra_with_the_package_s_scripts(tmp_path, monkeypatch,
                                                                    calls):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["deploy", "--dry", "--spec", "other.yml"]) == 0
    assert cli.main(["teardown", "--force", "--state-dir", "/s", "--data", "k=v"]) == 0
    entry = package_path("entry")
    pyinfra = f"{os.path.dirname(sys.executable)}/pyinfra"
    assert calls == [
        ([pyinfra, "-y", f"{entry}/inventory.py", f"{entry}/deploy.py", "--dry"], "other.yml"),
        ([pyinfra, "-y", f"{entry}/inventory.py", f"{entry}/teardown.py", "--data",
          "state_dir=/s", "--data", "force=true", "--data", "k=v"], None),
    ]


def test_deploy_runs_the_directory_s_own_scripts(tmp_path, monkeypatch, calls):
    for name in ("inventory.py", "deploy.py"):
        (tmp_path / name).write_text("")
    monkeypatch.chdir(tmp_path)
    cli.main(["deploy"])
    assert calls[0][0][1:] == ["-y", "inventory.py", "deploy.py"]

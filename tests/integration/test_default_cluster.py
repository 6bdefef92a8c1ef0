"""The README's deploy command, as written, brings up the seed cluster on the local engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, containers_state, docker, http_get, remove_cluster

pytestmark = pytest.mark.docker


def test_readme_deploy_command_brings_up_the_seed_cluster(engine: None, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    try:
        result = subprocess.run(["bash", "scripts/deploy.sh", "--data", f"state_dir={state_dir}"],
                                cwd=REPO, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
        state = containers_state("ci")
        assert sorted(state) == ["ci_node1", "ci_node2", "ci_node3", "ci_node4", "ci_node5",
                                 "ci_tester"]
        for i in range(1, 6):
            status, body = http_get(f"http://127.0.0.1:4040{i}/ping")
            assert status == 200 and f'"node{i}"' in body
            out = docker("exec", "ci_tester", "curl", "-fsS", f"http://node{i}:40404/ping")
            assert f'"node{i}"' in out.stdout
        network = docker("network", "inspect", "--format", "{{.Name}} {{json .Labels}}",
                         "netDB").stdout
        assert '"io.clusterdeploy.cluster":"ci"' in network
        caps = docker("inspect", "--format", "{{.HostConfig.Privileged}} {{.HostConfig.CapAdd}}",
                      "ci_node1").stdout.strip()
        # the engine stores capability names with their CAP_ prefix
        assert caps == "false [CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE]"
    finally:
        remove_cluster("ci")

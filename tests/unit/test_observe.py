"""Parsing the batched observation (captured `docker ps` lines and network JSON) into an
ObservedState, and the script run by a real shell."""

from __future__ import annotations

import pytest
from unitlib import FIXTURES

from clusterdeploy import labels
from clusterdeploy.observe import MARK, observe_script, parse_observation

CAPTURED = FIXTURES / "observe" / "two-nodes-one-exited.txt"


@pytest.fixture(scope="module")
def observed():
    return parse_observation(CAPTURED.read_text())


def test_captured_names_include_foreign_containers(observed):
    assert observed.names == {"ci_node1": "ci", "ci_node2": "ci", "infallible_lewin": ""}


def test_captured_running_healthy_container(observed):
    node1 = observed.container("ci_node1")
    assert (node1.id[:12], node1.status, node1.running, node1.health, node1.exit_code) == (
        "c1f0e2a39b7d", "running", True, "healthy", 0)
    assert node1.member == "node1"
    assert node1.config_hash == "3f0c1d2b" * 8
    assert node1.networks == ("netDB",)
    assert node1.labels[labels.CLUSTER] == "ci"


def test_captured_exited_container(observed):
    node2 = observed.container("ci_node2")
    assert (node2.status, node2.running, node2.exit_code) == ("exited", False, 137)
    assert node2.health is None  # `docker ps` shows no health for a stopped container


def test_captured_network(observed):
    net = observed.network("netDB")
    assert net.subnets == ("172.28.0.0/24",)
    assert net.cluster == "ci"
    assert net.config_hash == "b7e1" * 16
    assert list(net.containers.values()) == ["ci_node1"]
    assert observed.network("bridge") is None


def test_captured_images_skip_untagged(observed):
    assert observed.images == {
        "my-db:dev": "sha256:eb26b3fa19ed573b3febc52d316bf29ef755f3c901e010e662df72a93ce2f663",
        "go-builder:dev": "sha256:196ecae3025970391be804801d87b6b00ff67f72ee93654ed4ec37888d662c10",
        "debian:bookworm":
            "sha256:7de7fb233a2fa18c412f81fc34e6fb800d3871149868672c297d2233f1a77c4d",
    }


def test_captured_files(observed):
    assert sorted(observed.files) == [
        f"/var/lib/clusterdeploy/ci/ci_node{i}/{name}" for i in (1, 2)
        for name in ("Cluster.config", "setup.sh")]
    assert observed.files["/var/lib/clusterdeploy/ci/ci_node1/setup.sh"] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_health_and_exit_code_from_the_status_column():
    from clusterdeploy.observe import _container

    def line(state: str, status: str) -> str:
        return "\t".join(["id", "n", state, status, "netA,netB", "ci", "node1", "h", "{}"])
    starting = _container(line("running", "Up 2 seconds (health: starting)"))
    assert (starting.health, starting.networks) == ("starting", ("netA", "netB"))
    assert _container(line("running", "Up 1 minute (unhealthy)")).health == "unhealthy"
    assert _container(line("running", "Up 1 minute")).health is None
    assert _container(line("exited", "Exited (2) 5 seconds ago")).exit_code == 2
    assert _container(line("created", "Created")).status == "created"


def test_empty_host():
    text = (f"{MARK}names\n\n{MARK}containers\n{MARK}networks\n[]\n{MARK}images\n"
            f"{MARK}files\n{MARK}end\n")
    observed = parse_observation(text)
    assert (observed.error, observed.names, observed.containers, observed.networks,
            observed.images, observed.files) == (None, {}, (), (), {}, {})


def test_docker_error_is_reported_not_raised():
    text = (f"{MARK}error\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?\n")
    assert parse_observation(text).error == (
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?")


def test_cut_short_observation_raises():
    with pytest.raises(ValueError, match="the observation was cut short"):
        parse_observation(f"{MARK}names\nci_node1\tci\n{MARK}containers\n")


def test_observe_script_quotes_its_arguments():
    script = observe_script("ci", "net DB;x", "/var/lib/clusterdeploy/c i")
    assert "-v c=ci '$6 == c'" in script  # the cluster's rows of the one `docker ps`
    assert "-v n='net DB;x'" in script
    assert "find '/var/lib/clusterdeploy/c i' -type f" in script
    assert script.rstrip().endswith(f"echo {MARK}end")

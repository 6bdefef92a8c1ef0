"""The batched observation: captured output parsed into an ObservedState, and the script run
under a real `sh` against a fake `docker` (tests/unit/fakedocker.py) that honours the formats."""

from __future__ import annotations

import pytest
from unitlib import FIXTURES

from clusterdeploy.core import labels
from clusterdeploy.docker.batch import MARK
from clusterdeploy.docker.imagereads import listing_script, parse_listing
from clusterdeploy.docker.observe import _container, observe_script, parse_observation
from clusterdeploy.errors import DeployError

CAPTURED = FIXTURES / "observe" / "two-nodes-one-exited.txt"


@pytest.fixture(scope="module")
def observed():
    return parse_observation(CAPTURED.read_text(), "ci", "local")


def test_captured_names_include_foreign_containers(observed):
    assert observed.names == {"ci_node1": "ci", "ci_node2": "ci", "infallible_lewin": ""}


def test_only_the_clusters_containers_are_observed_in_full(observed):
    assert [c.name for c in observed.containers] == ["ci_node1", "ci_node2"]


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
    def row(state: str, status: str) -> dict[str, str]:
        return {"id": "id", "name": "n", "state": state, "status": status,
                "networks": "netA,netB", "cluster": "ci", "member": "node1"}
    starting = _container(row("running", "Up 2 seconds (health: starting)"))
    assert (starting.health, starting.networks) == ("starting", ("netA", "netB"))
    assert _container(row("running", "Up 1 minute (unhealthy)")).health == "unhealthy"
    assert _container(row("running", "Up 1 minute")).health is None
    assert _container(row("exited", "Exited (2) 5 seconds ago")).exit_code == 2
    assert _container(row("created", "Created")).status == "created"


def test_empty_host():
    text = f"{MARK}ps\n{MARK}networks\n[]\n{MARK}images\n{MARK}files\n{MARK}end\n"
    observed = parse_observation(text, "ci", "local")
    assert (observed.names, observed.containers, observed.networks, observed.images,
            observed.files) == ({}, (), (), {}, {})


def test_docker_error_is_raised_naming_the_host():
    text = (f"{MARK}error\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?\n")
    with pytest.raises(DeployError) as info:
        parse_observation(text, "ci", "web1")
    assert str(info.value) == (
        "web1: cannot talk to Docker: Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock. Is the docker daemon running?")


def test_cut_short_observation_raises_naming_the_host():
    with pytest.raises(DeployError, match=r"^web1: the observation was cut short"):
        parse_observation(f"{MARK}ps\nabc\tci_node1\n{MARK}networks\n", "ci", "web1")


# --- the script under a real shell, against the fake docker ----------------------------------

ROOT = "/var/lib/clusterdeploy/ci"


def container(name, cluster="ci", state="running", status="Up 1 minute (healthy)", **labels_):
    return {"ID": f"id-{name}", "Names": name, "State": state, "Status": status,
            "Networks": "netDB", "Labels": {labels.CLUSTER: cluster, **labels_}}


def network(name, cluster="ci", net_id=None):
    return {"Id": net_id or f"net-{name}", "Name": name,
            "Labels": {labels.CLUSTER: cluster} if cluster else {},
            "IPAM": {"Config": [{"Subnet": "172.28.0.0/24"}]}, "Containers": {}}


@pytest.fixture
def host_state(fake_docker):
    fake_docker.state = {
        "containers": [container("ci_node1", **{labels.MEMBER: "node1"}),
                       container("other_node1", cluster="other"),
                       container("lonely", cluster="")],
        "networks": [network("netDB"), network("oldnet"), network("bridge", cluster=""),
                     network("otherNet", cluster="other")],
        "images": [{"Repository": "my-db", "Tag": "latest", "ID": "sha256:aa"},
                   {"Repository": "<none>", "Tag": "<none>", "ID": "sha256:bb"}],
    }
    return fake_docker


def observe_with(fake_docker):
    result = fake_docker.run(observe_script("ci", "netDB", ROOT))
    assert result.returncode == 0, result.stderr
    return parse_observation(result.stdout, "ci", "local")


def test_script_reads_names_from_the_name_column(host_state):
    observed = observe_with(host_state)
    assert observed.names == {"ci_node1": "ci", "other_node1": "other", "lonely": ""}
    assert [(c.id, c.name, c.member) for c in observed.containers] == [
        ("id-ci_node1", "ci_node1", "node1")]


def test_script_inspects_the_networks_named_like_ours_or_labelled_ours(host_state):
    observed = observe_with(host_state)
    assert sorted(n.name for n in observed.networks) == ["netDB", "oldnet"]
    inspected = [argv for argv in host_state.argvs() if argv[:2] == ["network", "inspect"]]
    assert inspected == [["network", "inspect", "net-netDB", "net-oldnet"]]


def test_script_reads_images_and_drops_untagged(host_state):
    assert observe_with(host_state).images == {"my-db:latest": "sha256:aa"}


def test_script_makes_a_constant_number_of_docker_calls(host_state):
    host_state.state["containers"] += [container(f"ci_node{i}") for i in range(2, 40)]
    observe_with(host_state)
    assert sorted(call["command"] for call in host_state.calls()) == [
        "images", "images", "inspect", "network inspect", "network ls", "ps", "volume ls"]


@pytest.mark.parametrize("failing", ["ps", "network ls", "network inspect", "images"])
def test_a_failing_docker_call_is_an_error_not_a_partial_state(host_state, failing):
    host_state.state["fail"] = {failing: f"Error response from daemon: {failing} broke"}
    result = host_state.run(observe_script("ci", "netDB", ROOT))
    with pytest.raises(DeployError) as info:
        parse_observation(result.stdout, "ci", "lab")
    assert str(info.value) == f"lab: cannot talk to Docker: Error response from daemon: " \
                              f"{failing} broke"


def test_script_checksums_the_rendered_files(host_state, tmp_path):
    root = tmp_path / "state" / "ci"
    (root / "ci_node1").mkdir(parents=True)
    (root / "ci_node1" / "Cluster.config").write_text("")
    result = host_state.run(observe_script("ci", "netDB", str(root)))
    observed = parse_observation(result.stdout, "ci", "local")
    assert observed.files == {str(root / "ci_node1" / "Cluster.config"):
                              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}


def test_observe_script_quotes_its_arguments(host_state):
    script = observe_script("ci", "net DB;x", "/var/lib/clusterdeploy/c i")
    assert "-v n='net DB;x'" in script
    assert "find '/var/lib/clusterdeploy/c i' -type f" in script
    assert script.rstrip().endswith(f"echo {MARK}end")
    assert host_state.run(script).returncode == 0


def test_script_reads_each_containers_wiring(host_state):
    host_state.state["containers"][0].update(
        Config={"Hostname": "node1"},
        NetworkSettings={"Networks": {"netDB": {"IPAMConfig": {"IPv4Address": "172.28.0.2"},
                                                "IPAddress": "172.28.0.2",
                                                "Aliases": ["node1", "c1f0e2a39b7d"]},
                                      "bridge": {"IPAMConfig": None, "IPAddress": "172.17.0.5",
                                                 "Aliases": None}}},
        HostConfig={"PortBindings": {"40404/tcp": [{"HostIp": "127.0.0.1", "HostPort": "40401"}],
                                     "53/udp": [{"HostIp": "", "HostPort": ""}]}},
        Mounts=[{"Type": "bind", "Source": "/s/ci/ci_node1", "Destination": "/clusterdeploy",
                 "RW": False},
                {"Type": "volume", "Source": "/var/lib/docker/volumes/x", "Destination": "/d",
                 "RW": True}])
    node1 = observe_with(host_state).container("ci_node1")
    assert node1.attachment.hostname == "node1"
    assert node1.attachment.networks == {"netDB": ("172.28.0.2", ("node1", "c1f0e2a39b7d")),
                                         "bridge": ("172.17.0.5", ())}
    assert node1.attachment.ports == frozenset({"127.0.0.1:40401:40404/tcp", "53/udp"})
    assert node1.attachment.mounts == frozenset({"/s/ci/ci_node1:/clusterdeploy:ro"})
    inspected = [argv for argv in host_state.argvs() if argv[0] == "inspect"]
    assert [argv[3:] for argv in inspected] == [["id-ci_node1"]]  # the cluster's alone


def test_script_reports_whether_the_files_root_exists(host_state, tmp_path):
    missing = parse_observation(host_state.run(observe_script(
        "ci", "netDB", str(tmp_path / "nope"))).stdout, "ci", "local")
    present = parse_observation(host_state.run(observe_script(
        "ci", "netDB", str(tmp_path))).stdout, "ci", "local")
    assert (missing.files_root_exists, present.files_root_exists) == (False, True)


def test_script_reads_the_fault_journal_one_entry_a_line(host_state, tmp_path):
    journal = tmp_path / ".clusterdeploy-faults" / "ci"
    assert not parse_observation(host_state.run(observe_script(
        "ci", "netDB", ROOT, str(journal))).stdout, "ci", "local").faults_dir_exists
    journal.mkdir(parents=True)
    (journal / "p1.json").write_text(
        '{"id": "p1", "fault": "partition", "targets": ["node1", "node2"], "since": '
        '"2026-11-28T08:00:01.5Z", "containers": {"node2": "ci_node2", "node1": "ci_node1"}, '
        '"helper": "h:1"}\n')
    (journal / "k1.json").write_text('{"id": "k1", "fault": "kill", "since": '
                                     '"2026-11-28T08:00:00Z", "containers": {"node4": "ci_node4"}}')
    (journal / "bad.json").write_text("{not json")
    (journal / "nemesis.log").write_text("{}\n")
    observed = parse_observation(host_state.run(observe_script(
        "ci", "netDB", ROOT, str(journal))).stdout, "ci", "local")
    assert observed.faults_dir_exists
    assert [(f.id, f.fault, f.containers) for f in observed.faults] == [
        ("?", "unreadable", ()), ("k1", "kill", ("ci_node4",)),
        ("p1", "partition", ("ci_node1", "ci_node2"))]
    assert observed.faults[2].helper == "h:1" and observed.faults[2].targets == ("node1", "node2")
    assert str(observed.faults[2]) == "partition p1 since 2026-11-28T08:00:01Z"
    # two observations of 7 docker calls each (ps, inspect, network ls, network inspect, images
    # twice, volume ls): the journal adds none
    assert len(host_state.calls()) == 14


# --- images read by name instead of listed -------------------------------------------------------


@pytest.fixture
def built_state(host_state):
    """my-db built by clusterdeploy (its hash tag and latest on one image), a base image, and
    someone else's image."""
    host_state.state["images"] = [
        {"Repository": "my-db", "Tag": "latest", "ID": "sha256:aa",
         "Labels": {labels.IMAGE_HASH: "0123"}},
        {"Repository": "my-db", "Tag": "0123456789abcdef", "ID": "sha256:aa",
         "Labels": {labels.IMAGE_HASH: "0123"}},
        {"Repository": "debian", "Tag": "bookworm", "ID": "sha256:dd"},
        {"Repository": "theirs", "Tag": "latest", "ID": "sha256:ee"},
    ]
    return host_state


def observe_refs(fake_docker, refs):
    result = fake_docker.run(observe_script("ci", "netDB", ROOT, image_refs=refs))
    assert result.returncode == 0, result.stderr
    return parse_observation(result.stdout, "ci", "local", refs)


def test_named_refs_are_inspected_not_listed(built_state):
    observed = observe_refs(built_state, ("my-db:latest", "debian:bookworm", "redis:7"))
    commands = [c["argv"] for c in built_state.calls()]
    assert not any(argv[0] == "images" for argv in commands)
    assert sorted(argv[-1] for argv in commands if argv[:2] == ["image", "inspect"]) == [
        "debian:bookworm", "my-db:latest", "redis:7"]
    # the hash tag is found among the tags of latest's image; a missing ref is simply absent
    assert observed.images == {"my-db:latest": "sha256:aa", "my-db:0123456789abcdef": "sha256:aa",
                               "debian:bookworm": "sha256:dd"}
    assert observed.own_images == {"sha256:aa"}
    assert not observed.images_listed
    assert observed.may_tag("my-db:latest")


def test_a_foreign_image_under_a_named_ref_is_not_ours(built_state):
    observed = observe_refs(built_state, ("theirs:latest",))
    assert observed.images == {"theirs:latest": "sha256:ee"}
    assert not observed.may_tag("theirs:latest")


def test_no_refs_read_no_images(built_state):
    observed = observe_refs(built_state, ())
    assert observed.images == {} and not observed.images_listed
    assert not any(c["argv"][0] in ("images", "image") for c in built_state.calls())


def test_an_inspect_failing_for_another_reason_is_the_hosts_error(built_state):
    built_state.state["fail"] = {"image": "Error response from daemon: image store broke"}
    result = built_state.run(observe_script("ci", "netDB", ROOT, image_refs=("my-db:latest",)))
    with pytest.raises(DeployError, match=r"^lab: cannot talk to Docker: .*image store broke"):
        parse_observation(result.stdout, "ci", "lab", ("my-db:latest",))


def test_the_listing_script_reads_every_image_and_ours(built_state):
    result = built_state.run(listing_script())
    images, own = parse_listing(result.stdout, "local")
    assert images == {"my-db:latest": "sha256:aa", "my-db:0123456789abcdef": "sha256:aa",
                      "debian:bookworm": "sha256:dd", "theirs:latest": "sha256:ee"}
    assert own == {"sha256:aa"}


def test_a_failing_listing_names_the_host(built_state):
    built_state.state["fail"] = {"images": "Error response from daemon: gone"}
    with pytest.raises(DeployError, match=r"^lab: cannot talk to Docker: .*gone"):
        parse_listing(built_state.run(listing_script()).stdout, "lab")

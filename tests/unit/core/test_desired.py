"""Desired state and the config hash: stable, canonical, and changed exactly where it must be."""

from __future__ import annotations

import yaml
from unitlib import BASE_IDS, STATE_DIR, base_doc, desired_for

from clusterdeploy.clusterspec import load_spec
from clusterdeploy.core.hashing import canonical_hash
from clusterdeploy.core.images import MISSING

BLOCK_STYLE = """\
# the fixture project's spec, block style
name: ci
network:
  name: netDB
  subnet: 172.28.0.0/24
images:
  builder:
    tag: go-builder
    dockerfile: docker-test/Dockerfile2
    args:
      BASE_IMAGE: debian:bookworm
  node:
    tag: my-db
    dockerfile: docker-test/Dockerfile
    args:
      BASE_IMAGE: debian:bookworm
    requires:
      - builder
defaults:
  image: my-db
  environment:
    CFG_PATH: /root/Cluster.config
    B_VAR: "2"
    A_VAR: "1"
  stop_grace_period: 10s
  cap_add: [NET_ADMIN, NET_RAW, SYS_PTRACE]
nodes:
  - name: node1
    container_name: ci_node1
    ports: ["127.0.0.1:40401:40404"]
  - name: node2
    container_name: ci_node2
    ports: ["127.0.0.1:40402:40404"]
tester:
  container_name: ci_tester
"""

FLOW_STYLE = """\
{tester: {container_name: ci_tester},
 nodes: [{ports: ['127.0.0.1:40401:40404/tcp'], container_name: ci_node1, name: node1},
         {container_name: ci_node2, name: node2, ports: ["127.0.0.1:40402:40404"]}],
 defaults: {cap_add: [NET_ADMIN, NET_RAW, SYS_PTRACE], stop_grace_period: 10000ms,
            environment: {A_VAR: 1, B_VAR: 2, CFG_PATH: /root/Cluster.config}, image: my-db},
 images: {node: {requires: [builder], args: {BASE_IMAGE: 'debian:bookworm'}, tag: my-db,
                 dockerfile: ./docker-test/Dockerfile},
          builder: {dockerfile: docker-test/Dockerfile2, tag: go-builder,
                    args: {BASE_IMAGE: "debian:bookworm"}}},
 network: {subnet: 172.28.0.0/24, name: netDB}, name: ci}
"""


def hashes(desired):
    return {c.name: c.config_hash for c in desired.containers}


def test_config_hash_is_stable_across_yaml_reformatting(project):
    block = desired_for(load_spec(project / "cluster.yml"))
    (project / "block.yml").write_text(BLOCK_STYLE)
    (project / "flow.yml").write_text(FLOW_STYLE)
    a = desired_for(load_spec(project / "block.yml"))
    b = desired_for(load_spec(project / "flow.yml"))
    assert hashes(a) == hashes(b)
    assert [i.hash for i in a.images] == [i.hash for i in b.images]
    assert a.network == b.network
    assert [i.hash for i in a.images] == [i.hash for i in block.images]


def test_config_hash_is_stable_across_loads(project):
    first = desired_for(load_spec(project / "cluster.yml"))
    second = desired_for(load_spec(project / "cluster.yml"))
    assert hashes(first) == hashes(second)


def test_environment_change_changes_only_that_nodes_hash(load):
    before = hashes(desired_for(load(base_doc())))
    doc = base_doc()
    doc["nodes"][2]["environment"] = {"FOO": "bar"}
    after = hashes(desired_for(load(doc)))
    assert {name for name in before if before[name] != after[name]} == {"ci_node3"}


def test_adding_a_node_changes_every_hash(load):
    before = desired_for(load(base_doc(count=5)))
    after = desired_for(load(base_doc(count=6)))
    old, new = hashes(before), hashes(after)
    assert set(new) - set(old) == {"ci_node6"}
    assert all(old[name] != new[name] for name in old)  # the tester too


def test_adding_a_node_changes_cluster_config_of_every_member(load):
    before = desired_for(load(base_doc(count=5)))
    after = desired_for(load(base_doc(count=6)))
    for name in ("ci_node1", "ci_tester"):
        old = {f.path: f.content for f in before.container(name).files}
        new = {f.path: f.content for f in after.container(name).files}
        assert old["Cluster.config"] != new["Cluster.config"]
        assert new["Cluster.config"].decode().rstrip().endswith("node6 172.28.0.7 40404")
        assert old["setup.sh"] == new["setup.sh"]


def test_ready_timeout_does_not_force_a_recreate(load):
    before = hashes(desired_for(load(base_doc())))
    doc = base_doc()
    doc["defaults"]["ready_timeout"] = "5m"
    assert hashes(desired_for(load(doc))) == before


def test_hash_input_sorts_environment(load):
    doc = base_doc()
    doc["defaults"]["environment"] = {"ZED": "1", "ALPHA": "2", "MID": "3"}
    container = desired_for(load(doc)).container("ci_node1")
    assert list(container.hash_input()["environment"]) == ["ALPHA", "MID", "ZED"]


def test_environment_order_does_not_change_the_hash(load):
    one, two = base_doc(), base_doc()
    one["defaults"]["environment"] = {"A": "1", "B": "2"}
    two["defaults"]["environment"] = {"B": "2", "A": "1"}
    assert hashes(desired_for(load(one))) == hashes(desired_for(load(two)))


def test_port_spelling_does_not_change_the_hash(load):
    one, two = base_doc(count=1), base_doc(count=1)
    one["nodes"][0]["ports"] = ["40401:40404"]
    two["nodes"][0]["ports"] = ["0.0.0.0:40401:40404/tcp"]
    a = desired_for(load(one)).container("ci_node1")
    b = desired_for(load(two)).container("ci_node1")
    assert a.hash_input()["ports"] == b.hash_input()["ports"] == ["0.0.0.0:40401:40404/tcp"]
    assert a.config_hash == b.config_hash


def test_hash_input_is_what_the_config_hash_covers(load):
    container = desired_for(load(base_doc())).container("ci_node1")
    assert sorted(container.hash_input()) == [
        "address", "cap_add", "cap_drop", "command", "environment", "files", "healthcheck",
        "hostname", "image", "init", "mounts", "network", "ports", "privileged",
        "stop_grace_period", "user"]
    assert container.hash_input()["mounts"] == [
        "/var/lib/clusterdeploy/ci/ci_node1:/clusterdeploy:ro"]


def test_image_id_is_part_of_the_hash(load):
    before = hashes(desired_for(load(base_doc())))
    after = hashes(desired_for(load(base_doc()), {"busybox:1.36": "sha256:" + "c" * 64}))
    assert all(before[name] != after[name] for name in before)


def test_container_uses_an_existing_image_as_given(load):
    container = desired_for(load(base_doc())).container("ci_node1")
    assert container.image == "busybox:1.36"
    assert container.image_identity == BASE_IDS["busybox:1.36"]
    assert desired_for(load(base_doc()), {}).container("ci_node1").image_identity == MISSING


def test_container_uses_the_built_image_by_content_hash(project):
    desired = desired_for(load_spec(project / "cluster.yml"))
    node_image = desired.images[-1]
    assert {c.image for c in desired.containers} == {node_image.ref}
    assert {c.image_identity for c in desired.containers} == {node_image.hash}


def test_desired_containers_and_labels(load):
    desired = desired_for(load(base_doc()))
    assert [c.name for c in desired.containers] == [
        "ci_node1", "ci_node2", "ci_node3", "ci_node4", "ci_node5", "ci_tester"]
    node = desired.container("ci_node1")
    assert (node.member, node.config_hash) == ("node1", canonical_hash(node.hash_input()))
    tester = desired.container("ci_tester")
    assert (tester.member, tester.ports, tester.healthcheck) == ("tester", (), None)
    assert desired.files_root == f"{STATE_DIR}/ci"
    assert node.files_host_dir == f"{STATE_DIR}/ci/ci_node1"


def test_disabled_tester_is_not_desired(load):
    doc = base_doc()
    doc["tester"]["enabled"] = False
    assert "ci_tester" not in [c.name for c in desired_for(load(doc)).containers]


def test_network_hash_changes_with_the_subnet_only(load):
    a = desired_for(load(base_doc())).network
    doc = base_doc()
    doc["nodes"][0]["environment"] = {"X": "1"}
    assert desired_for(load(doc)).network == a
    doc["network"]["subnet"] = "172.29.0.0/24"
    b = desired_for(load(doc)).network
    assert (b.subnet, b.gateway) == ("172.29.0.0/24", "172.29.0.1")
    assert b.config_hash != a.config_hash


def test_two_hundred_nodes_desired_state(load):
    doc = base_doc(nodes={"count": 200, "publish": {"base": 40400}})
    doc["network"]["subnet"] = "172.28.0.0/23"
    desired = desired_for(load(doc))
    assert len(desired.containers) == 201
    assert len({c.config_hash for c in desired.containers}) == 201


def test_yaml_round_trip_of_the_fixture_spec_keeps_hashes(project):
    before = hashes(desired_for(load_spec(project / "cluster.yml")))
    doc = yaml.safe_load((project / "cluster.yml").read_text())
    (project / "cluster.yml").write_text(yaml.safe_dump(doc, default_flow_style=True))
    assert hashes(desired_for(load_spec(project / "cluster.yml"))) == before

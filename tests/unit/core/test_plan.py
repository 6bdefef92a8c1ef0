"""Golden plans, asserted as the text a person reads (`--dry`), for observed-state fixtures.

Observed states are built from a computed desired state (`observed_from`: everything as wanted)
and then changed, or parsed from captured `docker inspect` output (tests/fixtures/observe).
Image content hashes are shown as <hash> (see `plan_text`).
"""

from __future__ import annotations

import dataclasses

import pytest
from unitlib import (
    FIXTURES,
    base_doc,
    container_id,
    desired_for,
    observed_from,
    plan_text,
    replace_container,
)

from clusterdeploy.clusterspec import load_spec
from clusterdeploy.core import labels
from clusterdeploy.core.actions import Recreate
from clusterdeploy.core.observed import ObservedNetwork, ObservedState
from clusterdeploy.core.plan import plan
from clusterdeploy.docker.observe import parse_observation
from clusterdeploy.errors import DeployError

FILES = "/var/lib/clusterdeploy/ci"
MEMBERS = ["ci_node1", "ci_node2", "ci_node3", "ci_node4", "ci_node5", "ci_tester"]


def text(actions):
    return plan_text(actions)


@pytest.fixture
def project_desired(project):
    return desired_for(load_spec(project / "cluster.yml"))


@pytest.fixture
def desired(load):
    return desired_for(load(base_doc(), "five.yml"))


def test_action_str_is_one_line(desired):
    observed = observed_from(desired)
    action = Recreate(cause="environment changed: FOO", container=desired.containers[2],
                      old=observed.containers[2])
    assert str(action) == "recreate ci_node3: environment changed: FOO"


def test_cold_deploy_on_an_empty_host(project_desired):
    assert text(plan(project_desired, ObservedState())) == "\n".join([
        "build go-builder:<hash>: not on the host (builder)",
        "build my-db:<hash>: not on the host (node)",
        "create-network netDB: missing (subnet 172.28.0.0/24)",
        *[f"write-file {FILES}/{m}/{f}: missing" for m in MEMBERS
          for f in ("Cluster.config", "setup.sh")],
        *[f"create {m}: missing" for m in MEMBERS],
        "wait healthy: 6 containers (re)started",
    ])


def test_everything_matching_is_an_empty_plan(project_desired):
    assert plan(project_desired, observed_from(project_desired)) == []


def test_one_environment_change_recreates_exactly_that_node(load, desired):
    doc = base_doc()
    doc["nodes"][2]["environment"] = {"FOO": "bar"}
    changed = desired_for(load(doc, "changed.yml"))
    assert text(plan(changed, observed_from(desired))) == (
        "recreate ci_node3: environment changed: FOO\n"
        "wait healthy: 1 container (re)started")


def test_changed_environment_value_is_named(load):
    one, two = base_doc(), base_doc()
    one["defaults"]["environment"] = {"CFG_PATH": "/root/Cluster.config", "LEVEL": "1"}
    two["defaults"]["environment"] = {"CFG_PATH": "/root/Cluster.config", "LEVEL": "2"}
    before, after = desired_for(load(one, "one.yml")), desired_for(load(two, "two.yml"))
    assert text(plan(after, observed_from(before))).splitlines()[0] == (
        "recreate ci_node1: environment changed: LEVEL")


def test_several_changes_are_all_named(load, desired):
    doc = base_doc()
    doc["nodes"][0].update(environment={"FOO": "1"}, ports=["127.0.0.1:40411:40404"])
    changed = desired_for(load(doc, "changed.yml"))
    assert text(plan(changed, observed_from(desired))).splitlines()[0] == (
        "recreate ci_node1: environment changed: FOO; ports changed")


def test_stopped_container_is_started_with_its_exit_code(desired):
    observed = replace_container(observed_from(desired), "ci_node3", status="exited",
                                 exit_code=137, health="unhealthy")
    assert text(plan(desired, observed)) == (
        "start ci_node3: not running (exited with code 137)\n"
        "wait healthy: 1 container (re)started")


def test_created_but_never_started_container_is_started(desired):
    observed = replace_container(observed_from(desired), "ci_node2", status="created")
    assert text(plan(desired, observed)).splitlines()[0] == "start ci_node2: not running (created)"


def test_running_but_unhealthy_container_is_waited_for(desired):
    observed = replace_container(observed_from(desired), "ci_node2", health="starting")
    assert text(plan(desired, observed)) == "wait healthy: ci_node2 not healthy"


def test_removed_node_is_removed_with_its_files(load, desired):
    six = desired_for(load(base_doc(count=6), "six.yml"))
    full = observed_from(six)
    extra = full.container("ci_node6")
    observed = dataclasses.replace(
        observed_from(desired),
        containers=(*observed_from(desired).containers, extra),
        files={**observed_from(desired).files,
               **{p: d for p, d in full.files.items() if "/ci_node6/" in p}},
    )
    assert text(plan(desired, observed)) == (
        "remove ci_node6: no longer in the spec\n"
        f"remove-files {FILES}/ci_node6: no longer in the spec")


def test_removing_a_node_rewrites_the_replica_table_everywhere(load, desired):
    six = desired_for(load(base_doc(count=6), "six.yml"))
    assert text(plan(desired, observed_from(six))) == "\n".join([
        "remove ci_node6: no longer in the spec",
        *[f"write-file {FILES}/{m}/Cluster.config: content changed" for m in MEMBERS],
        *[f"recreate {m}: files changed: Cluster.config" for m in MEMBERS],
        "wait healthy: 6 containers (re)started",
        f"remove-files {FILES}/ci_node6: no longer in the spec",
    ])


def test_edited_file_on_the_host_is_rewritten(desired):
    observed = observed_from(desired)
    path = f"{FILES}/ci_node2/Cluster.config"
    observed = dataclasses.replace(observed, files={**observed.files, path: "0" * 64})
    assert text(plan(desired, observed)) == f"write-file {path}: content changed"


@pytest.mark.parametrize(("owner", "whose"), [("", "no clusterdeploy cluster"),
                                              ("other", "cluster 'other'")])
def test_foreign_container_with_a_desired_name_is_an_error(desired, owner, whose):
    observed = dataclasses.replace(ObservedState(), names={"ci_node2": owner, "unrelated": ""})
    with pytest.raises(DeployError) as info:
        plan(desired, observed, host="local")
    assert str(info.value) == (
        f"local: container ci_node2 already exists and belongs to {whose}; clusterdeploy leaves "
        "it alone (remove or rename it, or choose another container_name for node2)")


def foreign_network(name="netDB", subnet="172.28.0.0/24", cluster=""):
    return ObservedNetwork(id=container_id(name), name=name,
                           labels={labels.CLUSTER: cluster} if cluster else {},
                           subnets=(subnet,), containers={})


def test_foreign_network_with_the_desired_name_is_an_error(desired):
    observed = ObservedState(networks=(foreign_network(),))
    with pytest.raises(DeployError) as info:
        plan(desired, observed)
    assert str(info.value) == (
        "network netDB already exists and belongs to no clusterdeploy cluster; clusterdeploy "
        "leaves it alone (remove it, or set network.name to another name)")


def test_every_ownership_problem_is_reported_at_once(desired):
    observed = ObservedState(names={"ci_node1": "", "ci_tester": "x"},
                             networks=(foreign_network(cluster="x"),))
    with pytest.raises(DeployError) as info:
        plan(desired, observed)
    assert [line.split(" already")[0] for line in str(info.value).splitlines()] == [
        "container ci_node1", "container ci_tester", "network netDB"]


def resubnet(load):
    doc = base_doc()
    doc["network"]["subnet"] = "172.29.0.0/24"
    return desired_for(load(doc, "resubnet.yml"))


def test_subnet_change_with_a_foreign_container_attached_is_an_error(load, desired):
    observed = observed_from(desired)
    net = observed.networks[0]
    net = dataclasses.replace(net, containers={**net.containers, "f" * 64: "intruder"})
    with pytest.raises(DeployError) as info:
        plan(resubnet(load), dataclasses.replace(observed, networks=(net,)), host="local")
    assert str(info.value) == (
        "local: network netDB must be recreated (subnet 172.28.0.0/24 -> 172.29.0.0/24) but "
        "containers outside the cluster use it: intruder (disconnect them first)")


def test_subnet_change_recreates_network_and_every_container(load, desired):
    lines = text(plan(resubnet(load), observed_from(desired))).splitlines()
    assert lines[:2] == ["remove-network netDB: its settings changed",
                         "create-network netDB: subnet 172.29.0.0/24"]
    assert [line for line in lines if line.startswith("recreate")] == [
        f"recreate {m}: network netDB is recreated" for m in MEMBERS]
    assert lines[-1] == "wait healthy: 6 containers (re)started"


def test_stale_network_of_the_cluster_is_removed(desired):
    observed = observed_from(desired)
    stale = foreign_network(name="oldnet", subnet="172.30.0.0/24", cluster="ci")
    observed = dataclasses.replace(observed, networks=(*observed.networks, stale))
    assert text(plan(desired, observed)) == "remove-network oldnet: no longer in the spec"


def test_missing_image_is_built(project_desired):
    observed = observed_from(project_desired)
    node = project_desired.images[-1]
    images = {k: v for k, v in observed.images.items() if k not in (node.ref, node.latest)}
    assert text(plan(project_desired, dataclasses.replace(observed, images=images))) == (
        "build my-db:<hash>: not on the host (node)")


def test_changed_source_rebuilds_and_recreates(project):
    before = desired_for(load_spec(project / "cluster.yml"))
    (project / "cmd" / "main.go").write_text("package main\n\nfunc main() { println(3) }\n")
    after = desired_for(load_spec(project / "cluster.yml"))
    lines = text(plan(after, observed_from(before))).splitlines()
    assert "build my-db:<hash>: content changed (node)" in lines
    assert [line for line in lines if line.startswith("recreate")] == [
        f"recreate {m}: image changed" for m in MEMBERS]


def test_latest_tag_pointing_elsewhere_is_retagged(project_desired):
    observed = observed_from(project_desired)
    node = project_desired.images[-1]
    images = {**observed.images, node.latest: "sha256:" + "0" * 64}
    assert text(plan(project_desired, dataclasses.replace(observed, images=images))) == (
        "tag my-db:latest: points to my-db:<hash>")


# --- a plan from captured `docker inspect` output -----------------------------------------------


def captured_desired(load):
    doc = base_doc(count=2)
    doc["defaults"]["image"] = "debian:bookworm"
    return desired_for(load(doc, "two.yml"), captured().images)


def captured():
    return parse_observation((FIXTURES / "observe" / "two-nodes-one-exited.txt").read_text(),
                             "ci", "local")


def test_plan_from_captured_observation(load):
    observed = captured()
    desired = captured_desired(load)
    # The capture's config-hash labels come from another spec: re-stamp them, so the plan
    # shows what the captured *state* (running, exited, missing) calls for.
    for c in desired.containers:
        if observed.container(c.name):
            observed = replace_container(observed, c.name, labels={
                **observed.container(c.name).labels, labels.CONFIG_HASH: c.config_hash})
    net = dataclasses.replace(observed.networks[0], labels={
        labels.CLUSTER: "ci", labels.CONFIG_HASH: desired.network.config_hash})
    observed = dataclasses.replace(observed, networks=(net,))
    assert text(plan(desired, observed)) == "\n".join([
        *[f"write-file {FILES}/ci_node{i}/{f}: content changed" for i in (1, 2)
          for f in ("Cluster.config", "setup.sh")],
        f"write-file {FILES}/ci_tester/Cluster.config: missing",
        f"write-file {FILES}/ci_tester/setup.sh: missing",
        "start ci_node2: not running (exited with code 137)",
        "create ci_tester: missing",
        "wait healthy: 2 containers (re)started",
    ])


def test_captured_containers_with_another_config_are_recreated(load):
    observed = captured()
    desired = captured_desired(load)
    net = dataclasses.replace(observed.networks[0], labels={
        labels.CLUSTER: "ci", labels.CONFIG_HASH: desired.network.config_hash})
    observed = dataclasses.replace(observed, networks=(net,))
    # The capture has no config label to compare with: the cause cannot be more precise.
    assert [line for line in text(plan(desired, observed)).splitlines()
            if line.startswith(("recreate", "create ", "start"))] == [
        "recreate ci_node1: config changed",
        "recreate ci_node2: config changed",
        "create ci_tester: missing",
    ]


def test_captured_network_with_another_config_is_recreated(load):
    observed = captured()
    lines = text(plan(captured_desired(load), observed)).splitlines()
    assert lines[:2] == ["remove-network netDB: its settings changed",
                         "create-network netDB: subnet 172.28.0.0/24"]

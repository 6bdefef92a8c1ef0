"""Issue 15: a plan per host for a cluster over several hosts."""

from __future__ import annotations

import dataclasses

import pytest
from unitlib import BASE_IDS, STATE_DIR, base_doc, observed_from, plan_text

from clusterdeploy.core.desired import desired_state
from clusterdeploy.core.hostplans import plan_hosts
from clusterdeploy.core.observed import ObservedNetwork, ObservedState
from clusterdeploy.core.render import render_cluster

LABS = [{"name": f"lab{i}", "ssh": {"address": f"10.250.0.{10 + i}"}} for i in (1, 2, 3)]


def per_host(spec):
    rendered = render_cluster(spec)
    return {h.name: desired_state(spec, rendered, STATE_DIR, build_ids=BASE_IDS, host=h.name)
            for h in spec.hosts}


def converged(desired):
    return {h: observed_from(d) for h, d in desired.items()}


def empty(desired):
    return {h: ObservedState() for h in desired}


def texts(plans):
    return {h: plan_text(actions).splitlines() for h, actions in plans.items()}


@pytest.fixture
def three(load):
    return per_host(load(base_doc(hosts=LABS)))


def test_each_host_gets_its_own_containers_and_only_the_first_creates_the_network(three):
    plans = texts(plan_hosts(three, empty(three), "lab1"))
    assert [line for line in plans["lab1"] if line.startswith("create ")] == [
        "create ci_node1: missing", "create ci_node4: missing", "create ci_tester: missing"]
    assert [line for line in plans["lab2"] if line.startswith("create ")] == [
        "create ci_node2: missing", "create ci_node5: missing"]
    assert [line for line in plans["lab3"] if line.startswith("create ")] == [
        "create ci_node3: missing"]
    assert plans["lab1"][0] == "create-network netDB: missing (subnet 172.28.0.0/24)"
    assert not any(line.startswith("create-network") for h in ("lab2", "lab3")
                   for line in plans[h])
    network = three["lab1"].network
    assert (network.driver, network.ip_range) == ("overlay", "172.28.0.224/28")


def test_a_converged_cluster_plans_nothing_anywhere(three):
    assert plan_hosts(three, converged(three), "lab1") == {"lab1": [], "lab2": [], "lab3": []}


def test_a_moved_node_is_removed_there_and_created_here_with_both_hosts_named(load, three):
    doc = base_doc(hosts=LABS)
    doc["nodes"][2]["host"] = "lab2"  # node3: lab3 -> lab2
    moved = per_host(load(doc, "moved.yml"))
    plans = texts(plan_hosts(moved, converged(three), "lab1"))
    assert "remove ci_node3: moved from lab3 to lab2" in plans["lab3"]
    assert plans["lab3"][0] == "collect-logs 1 container: before they are removed or replaced"
    assert "create ci_node3: moved from lab3 to lab2" in plans["lab2"]
    assert plans["lab1"] == []


def test_the_network_recreated_on_its_host_recreates_containers_everywhere(three):
    observed = converged(three)
    old = observed["lab1"].networks[0]
    observed["lab1"] = dataclasses.replace(observed["lab1"], networks=(dataclasses.replace(
        old, labels={**old.labels, "io.clusterdeploy.config-hash": "old"}),))
    plans = texts(plan_hosts(three, observed, "lab1"))
    assert "recreate ci_node2: network netDB is recreated" in plans["lab2"]
    assert "recreate ci_node3: network netDB is recreated" in plans["lab3"]
    assert not any("network" in line.split(":")[0] for line in plans["lab2"])


def test_a_bridge_left_from_one_host_goes_and_its_containers_move_onto_the_overlay(three):
    observed = converged(three)
    bridge = ObservedNetwork(id="b" * 64, name="netDB", labels={
        "io.clusterdeploy.cluster": "ci", "io.clusterdeploy.config-hash": "bridge"},
        subnets=("172.28.0.0/24",), containers={c.id: c.name for c in observed["lab2"].containers})
    observed["lab2"] = dataclasses.replace(observed["lab2"], networks=(bridge,))
    plans = texts(plan_hosts(three, observed, "lab1"))
    assert "remove-network netDB: the cluster's network is an overlay over several hosts now" \
        in plans["lab2"]
    assert "recreate ci_node2: network netDB is recreated" in plans["lab2"]
    assert plans["lab3"] == []


def test_the_bootstrap_runs_on_its_containers_host_when_nodes_elsewhere_are_new(load):
    doc = base_doc(hosts=LABS)
    doc["bootstrap"] = {"container": "tester", "command": ["init"], "when": "recreated"}
    desired = per_host(load(doc, "boot.yml"))
    observed = converged(desired)
    boot = desired["lab1"].bootstrap
    from clusterdeploy.core.hashing import sha256_bytes
    observed["lab1"] = dataclasses.replace(observed["lab1"], files={
        **observed["lab1"].files, boot.record_path: sha256_bytes(boot.record)})
    assert plan_hosts(desired, observed, "lab1") == {"lab1": [], "lab2": [], "lab3": []}
    observed["lab3"] = ObservedState()  # node3's host lost everything
    plans = texts(plan_hosts(desired, observed, "lab1"))
    assert plans["lab1"] == ["bootstrap ci_tester: nodes were (re)created"]
    assert not any("bootstrap" in line for line in plans["lab2"] + plans["lab3"])


def test_a_moved_nodes_data_volume_stays_behind_and_the_plan_says_so(load):
    from clusterdeploy.core import labels
    from clusterdeploy.core.observed import ObservedVolume
    doc = base_doc(hosts=LABS)
    doc["defaults"]["volumes"] = [{"name": "data", "path": "/var/lib/db"}]
    before = per_host(load(doc, "vol.yml"))
    doc["nodes"][2]["host"] = "lab2"
    after = per_host(load(doc, "moved.yml"))
    observed = converged(before)
    for host, desired in before.items():
        observed[host] = dataclasses.replace(observed[host], volumes={
            v.name: ObservedVolume(v.name, {labels.CLUSTER: "ci", labels.MEMBER: v.member,
                                            labels.KEEP: "true"}) for v in desired.volumes})
    plans = texts(plan_hosts(after, observed, "lab1"))
    assert "remove ci_node3: moved from lab3 to lab2 (its volume ci_node3_data stays on lab3)" \
        in plans["lab3"]
    assert "create-volume ci_node3_data: missing (its node moved here from lab3, whose data " \
           "stays there)" in plans["lab2"]
    assert not any(line.startswith("remove-volume") for line in plans["lab3"])

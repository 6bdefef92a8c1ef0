"""Issue 15: which host runs which container, and the checks that depend on it."""

from __future__ import annotations

import pytest
from unitlib import base_doc

from clusterdeploy.clusterspec.placement import placement_text


def lab(name: str, address: str, **extra: object) -> dict:
    return {"name": name, "ssh": {"address": address}, **extra}


LABS = [lab("lab1", "10.250.0.11"), lab("lab2", "10.250.0.12"), lab("lab3", "10.250.0.13")]


def hosts_of(spec) -> dict[str, str]:
    return {m.name: m.host for m in spec.members}


def test_one_host_holds_everything(load):
    spec = load(base_doc())
    assert set(hosts_of(spec).values()) == {"local"}
    assert not spec.spans_hosts


def test_nodes_without_a_host_go_round_robin_by_position_and_the_tester_to_the_first(load):
    spec = load(base_doc(hosts=LABS))
    assert hosts_of(spec) == {"node1": "lab1", "node2": "lab2", "node3": "lab3", "node4": "lab1",
                              "node5": "lab2", "tester": "lab1"}
    assert spec.spans_hosts
    assert placement_text(spec.members, spec.hosts) == (
        "lab1: node1, node4, tester; lab2: node2, node5; lab3: node3")


def test_a_named_host_wins_and_the_rest_spread_in_order(load):
    doc = base_doc(hosts=LABS)
    doc["nodes"][0]["host"] = "lab3"
    doc["tester"] = {"host": "lab2"}
    spec = load(doc)
    # the others keep their places: pinning one node moves only that one
    assert hosts_of(spec) == {"node1": "lab3", "node2": "lab2", "node3": "lab3", "node4": "lab1",
                              "node5": "lab2", "tester": "lab2"}


def test_the_compact_form_names_hosts_through_overrides(load):
    doc = base_doc(hosts=LABS[:2])
    doc["nodes"] = {"count": 4, "overrides": {"node4": {"host": "lab1"}}}
    spec = load(doc)
    assert [m.host for m in spec.nodes] == ["lab1", "lab2", "lab1", "lab1"]


def test_placement_is_deterministic(load):
    first, second = (hosts_of(load(base_doc(hosts=LABS), f"{i}.yml")) for i in (1, 2))
    assert first == second


def test_an_unknown_host_names_the_field_and_the_hosts(errors):
    doc = base_doc(hosts=LABS)
    doc["nodes"][1]["host"] = "lab9"
    text = str(errors(doc))
    assert "nodes[1].host: 'lab9' is not a host of the spec" in text
    assert "use one of lab1, lab2, lab3" in text


def test_an_unknown_host_in_overrides_names_the_override(errors):
    doc = base_doc(hosts=LABS)
    doc["nodes"] = {"count": 2, "overrides": {"node2": {"host": "nowhere"}}}
    assert "nodes.overrides.node2.host: 'nowhere' is not a host" in str(errors(doc))


def test_the_same_host_port_on_two_hosts_is_fine_but_not_on_one(load, errors):
    doc = base_doc(hosts=LABS[:2])
    for node in doc["nodes"]:
        node["ports"] = ["127.0.0.1:40401:40404"]
    doc["nodes"] = doc["nodes"][:2]  # node1 on lab1, node2 on lab2
    assert [m.host for m in load(doc).nodes] == ["lab1", "lab2"]
    doc["nodes"][1]["host"] = "lab1"
    assert "host port 127.0.0.1:40401 is already published by node1" in str(errors(doc))


@pytest.mark.parametrize(("hosts", "expected"), [
    ([lab("ab", "10.0.0.1"), lab("ab", "10.0.0.2")],
     "hosts[1].name: host name 'ab' is listed 2 times"),
    ([{"name": "local"}, {"name": "here"}], "hosts[1]: 'here' is the local engine too"),
])
def test_host_lists_that_cannot_work(errors, hosts, expected):
    assert expected in str(errors(base_doc(hosts=hosts)))


def test_host_names_need_one_host(errors):
    assert "host_names: host names in /etc/hosts need a cluster on one host" in str(
        errors(base_doc(hosts=LABS, host_names=True)))


def test_at_most_64_hosts(errors):
    hosts = [lab(f"h{i}", f"10.0.{i // 200}.{i % 200 + 1}") for i in range(65)]
    assert "hosts: has 65 entries, at most 64 allowed (list at most 64 Docker hosts)" in str(
        errors(base_doc(hosts=hosts)))


def test_swarm_address_is_checked_like_an_address(errors):
    assert "hosts[0].swarm_address" in str(
        errors(base_doc(hosts=[lab("lab1", "10.0.0.1", swarm_address="10.0.0.1; rm -rf /")])))


def test_the_overlay_keeps_a_block_below_the_tester_for_swarms_endpoints(load):
    spec = load(base_doc(hosts=LABS))
    assert (spec.network.driver, spec.network.endpoint_range) == ("overlay", "172.28.0.224/28")
    assert load(base_doc(), "one.yml").network.driver == "bridge"
    more = load(base_doc(count=6, hosts=LABS), "six.yml")  # a node more: the range stays
    assert more.network.endpoint_range == spec.network.endpoint_range


def test_a_node_address_in_the_endpoint_range_is_refused(errors):
    doc = base_doc(hosts=LABS)
    doc["nodes"][2]["address"] = "172.28.0.226"
    text = str(errors(doc))
    assert "nodes[2].address: node3's address 172.28.0.226 is in 172.28.0.224/28, the range " \
           "the overlay network keeps for Swarm's endpoints" in text


def test_a_subnet_without_room_for_the_endpoints_is_refused(errors):
    doc = base_doc(count=2, hosts=LABS)
    doc["network"]["subnet"] = "172.28.0.0/28"
    assert "network.subnet: subnet 172.28.0.0/28 is too small for an overlay over 3 hosts" in str(
        errors(doc))


def test_scheduled_faults_need_a_cluster_on_one_host(errors):
    doc = base_doc(hosts=LABS)
    doc["faults"] = {"schedule": [{"fault": "pause", "nodes": "node1"}]}
    assert "faults.schedule: fault injection works on a cluster on one host; this one spans 3" \
        in str(errors(doc))

"""Generated partitions for fixed seeds (golden), and concrete faults: what a declared fault
becomes once its shape is drawn and its links are listed."""

from __future__ import annotations

import itertools
import random

import pytest

from clusterdeploy.clusterspec.faults import FaultDef
from clusterdeploy.faults.model import Fault, concrete
from clusterdeploy.faults.shapes import SHAPES, majority_ring

NODES = [f"node{i}" for i in range(1, 6)]
MEMBERS = [*NODES, "tester"]

GOLDEN = {
    ("halves", 1): [["node3", "node4"], ["node1", "node2", "node5"]],
    ("halves", 42): [["node2", "node4"], ["node1", "node3", "node5"]],
    ("bridge", 1): [["node3", "node4"], ["node5"], ["node1", "node2"]],
    ("bridge", 42): [["node2", "node4"], ["node3"], ["node1", "node5"]],
    ("random-node", 1): [["node2"], ["node1", "node3", "node4", "node5"]],
    ("random-node", 42): [["node1"], ["node2", "node3", "node4", "node5"]],
    ("majority-ring", 42): [["node1", "node4", "node5"], ["node2", "node3", "node4"],
                            ["node3", "node2", "node5"], ["node4", "node1", "node2"],
                            ["node5", "node1", "node3"]],
}


@pytest.mark.parametrize(("shape", "seed"), sorted(GOLDEN))
def test_a_seed_draws_the_same_shape_every_time(shape, seed):
    groups, _ = SHAPES[shape](NODES, random.Random(seed))
    assert groups == GOLDEN[(shape, seed)]
    assert SHAPES[shape](NODES, random.Random(seed)) == (groups, _)


def test_halves_and_bridge_cut_exactly_between_their_sides():
    groups, cuts = SHAPES["bridge"](NODES, random.Random(1))
    left, bridge, right = groups
    assert sorted(cuts) == sorted((min(a, b), max(a, b)) for a in left for b in right)
    assert not any(bridge[0] in pair for pair in cuts)
    groups, cuts = SHAPES["halves"](NODES, random.Random(1))
    assert len(cuts) == len(groups[0]) * len(groups[1])


@pytest.mark.parametrize("count", [4, 5, 6, 7, 9])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_majority_ring_every_node_sees_a_majority_and_no_two_the_same(count, seed):
    nodes = [f"n{i}" for i in range(count)]
    views, cuts = majority_ring(nodes, random.Random(seed))
    for view in views:
        assert len(view) > count / 2
    assert len({frozenset(v) for v in views}) == count
    for a, b in itertools.combinations(nodes, 2):  # symmetric: a sees b iff b sees a
        sees = {v[0]: set(v) for v in views}
        assert (b in sees[a]) == (a in sees[b]) == ((a, b) not in cuts)


def test_groups_left_out_form_one_more_group_and_the_tester_is_never_in_it():
    fault = concrete(FaultDef("partition", groups=(("node1", "node2"), ("node3",))), MEMBERS,
                     "p1")
    assert fault.detail["groups"] == [["node1", "node2"], ["node3"], ["node4", "node5"]]
    assert ["node1", "node3"] in fault.detail["cuts"]
    assert ["node4", "node5"] not in fault.detail["cuts"]
    assert not any("tester" in pair for pair in fault.detail["cuts"])
    assert fault.targets == tuple(NODES)
    assert fault.describe() == "partition node1,node2 | node3 | node4,node5"


def test_the_tester_is_cut_only_when_named():
    fault = concrete(FaultDef("partition", groups=(("node1", "tester"),)), MEMBERS, "p1")
    assert fault.detail["groups"] == [["node1", "tester"], ["node2", "node3", "node4", "node5"]]
    assert ["node2", "tester"] in fault.detail["cuts"]


DESCRIBED = [
    (FaultDef("isolate", nodes=("node3",)), "isolate node3 | node1,node2,node4,node5"),
    (FaultDef("partition", from_=("node1",), to=("node2",)), "partition node1 cannot reach node2"),
    (FaultDef("loss", nodes=("node2",), percent=30), "loss 30% between node2 and every other node"),
    (FaultDef("rate", nodes=("node2",), peers=("node3",), rate="1mbit"),
     "rate 1mbit between node2 and node3"),
    (FaultDef("delay", nodes=("node2",), delay=0.1, jitter=0.01),
     "delay 100ms ±10ms between node2 and every other node"),
    (FaultDef("pause", nodes=("node4", "node1")), "pause node1,node4"),
    (FaultDef("partition", shape="majority-ring"),
     "partition majority-ring: node1 sees node4,node5; node2 sees node3,node4; node3 sees "
     "node2,node5; node4 sees node1,node2; node5 sees node1,node3"),
]


@pytest.mark.parametrize(("definition", "text"), DESCRIBED, ids=[t for _, t in DESCRIBED])
def test_a_concrete_fault_says_what_it_does_in_one_line(definition, text):
    assert concrete(definition, MEMBERS, "x", seed=42).describe() == text


def test_loss_links_each_named_node_with_every_other_node_once():
    fault = concrete(FaultDef("loss", nodes=("node2", "node1"), percent=10), MEMBERS, "l1")
    assert fault.detail["links"] == [["node1", "node2"], ["node1", "node3"], ["node1", "node4"],
                                     ["node1", "node5"], ["node2", "node3"], ["node2", "node4"],
                                     ["node2", "node5"]]


def test_a_fault_survives_its_json_form():
    fault = concrete(FaultDef("partition", shape="bridge"), MEMBERS, "b1", seed=7)
    assert Fault.from_json(fault.as_json()) == fault
    assert fault.seed == 7

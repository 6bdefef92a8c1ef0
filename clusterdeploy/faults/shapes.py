"""Partitions generated from a seed, as Jepsen's nemesis draws them.

Each takes the nodes (in spec order) and a `random.Random`, and returns the partition's groups
and the links it cuts (pairs of nodes that cannot reach each other). The same seed gives the same
partition; a shape drawn twice from one generator gives the next partition of that seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

Pair = tuple[str, str]


def _ordered(pair: Sequence[str], nodes: Sequence[str]) -> Pair:
    a, b = sorted(pair, key=nodes.index)
    return a, b


def cuts_between(groups: Sequence[Sequence[str]], nodes: Sequence[str]) -> list[Pair]:
    """Every pair of nodes in different groups, in node order."""
    pairs = {_ordered((a, b), nodes) for g, h in itertools.combinations(groups, 2)
             for a in g for b in h}
    return sorted(pairs, key=lambda p: (nodes.index(p[0]), nodes.index(p[1])))


def halves(nodes: Sequence[str], rng: random.Random) -> tuple[list[list[str]], list[Pair]]:
    """Two random halves (the smaller first), cut from each other."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    middle = len(shuffled) // 2
    groups = [sorted(shuffled[:middle], key=nodes.index),
              sorted(shuffled[middle:], key=nodes.index)]
    return groups, cuts_between(groups, nodes)


def random_node(nodes: Sequence[str], rng: random.Random) -> tuple[list[list[str]], list[Pair]]:
    """One random node isolated from the others."""
    alone = rng.choice(list(nodes))
    groups = [[alone], [n for n in nodes if n != alone]]
    return groups, cuts_between(groups, nodes)


def bridge(nodes: Sequence[str], rng: random.Random) -> tuple[list[list[str]], list[Pair]]:
    """Two halves cut from each other, and one node (the bridge) that reaches both."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    middle = (len(shuffled) - 1) // 2
    left, the_bridge, right = shuffled[:middle], shuffled[middle], shuffled[middle + 1:]
    sides = [sorted(left, key=nodes.index), sorted(right, key=nodes.index)]
    return [sides[0], [the_bridge], sides[1]], cuts_between(sides, nodes)


def majority_ring(nodes: Sequence[str], rng: random.Random,
                  ) -> tuple[list[list[str]], list[Pair]]:
    """Nodes on a ring in random order; each reaches the nodes within k places of it, k the
    smallest that makes that a majority: every node sees a majority, no two the same one
    (with five or more nodes). The groups are each node's view, itself first."""
    ring = list(nodes)
    rng.shuffle(ring)
    n = len(ring)
    k = -(-(n // 2) // 2)  # ceil(floor(n/2) / 2): 2k+1 nodes > n/2
    views, cut = [], set()
    for i, node in enumerate(ring):
        visible = {ring[(i + d) % n] for d in range(-k, k + 1)}
        views.append([node, *sorted(visible - {node}, key=nodes.index)])
        cut |= {_ordered((node, other), nodes) for other in ring if other not in visible}
    views.sort(key=lambda view: nodes.index(view[0]))
    return views, sorted(cut, key=lambda p: (nodes.index(p[0]), nodes.index(p[1])))


SHAPES = {"halves": halves, "majority-ring": majority_ring, "bridge": bridge,
          "random-node": random_node}

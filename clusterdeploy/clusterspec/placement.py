"""Which Docker host runs which container: a member's own `host`, else round-robin.

Deterministic on purpose: the same spec always places the same node on the same host, so a
redeploy moves nothing. Round-robin goes by the node's position (node i on host i mod N), not
by its rank among the nodes without a host, so pinning one node moves only that node.
"""

from __future__ import annotations

import dataclasses

from ..errors import Problem
from .model import Host, Member


def place(nodes: list[Member], tester: Member, hosts: tuple[Host, ...],
          ) -> tuple[list[Member], Member, list[Problem]]:
    """The members with their host: the one their spec entry names (`host_chosen`), else
    round-robin over `hosts` by position for the nodes, and the first host for the tester."""
    names = [h.name for h in hosts]
    problems = [Problem(f"{_path(m)}.host", f"{m.host!r} is not a host of the spec",
                        f"use one of {', '.join(names)} (the names under hosts:)")
                for m in (*nodes, tester) if m.host_chosen and m.host not in names]
    placed = [node if node.host_chosen
              else dataclasses.replace(node, host=names[(node.index - 1) % len(names)])
              for node in nodes]
    placed_tester = tester if tester.host_chosen else dataclasses.replace(tester, host=names[0])
    return placed, placed_tester, problems


def _path(member: Member) -> str:
    return member.path if member.path != "nodes" else f"nodes.overrides.{member.name}"


def placement_text(members: tuple[Member, ...], hosts: tuple[Host, ...]) -> str:
    """`lab1: node1, node4, tester; lab2: node2, node5` for summaries."""
    return "; ".join(f"{h.name}: {', '.join(m.name for m in members if m.host == h.name) or '-'}"
                     for h in hosts)

"""A concrete fault: what a declared fault (clusterspec.faults.FaultDef) is once its shape is
drawn and its links are listed, so that its rules follow from it and its journal entry alone.

`detail` holds everything concrete, as JSON values: `groups` and `cuts` (pairs of nodes that
cannot reach each other) of a partition, `from`/`to` of a one-way partition, `links` and the
amount of a loss, rate or delay. The same `Fault` is logged (nemesis lines), journaled and
written to a run's `faults.json`.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clusterspec.faults import (
    DELAY,
    ISOLATE,
    LOSS,
    NETWORK_KINDS,
    PARTITION,
    RATE,
    TESTER_NAME,
    FaultDef,
    links,
)
from .shapes import SHAPES, cuts_between


@dataclass(frozen=True)
class Fault:
    id: str
    kind: str
    targets: tuple[str, ...]  # the nodes it acts on, in member order
    detail: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    @property
    def is_network(self) -> bool:
        return self.kind in NETWORK_KINDS

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "fault": self.kind, "targets": list(self.targets),
                "detail": self.detail, "seed": self.seed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        return cls(str(data["id"]), str(data["fault"]), tuple(data.get("targets", ())),
                   dict(data.get("detail") or {}), data.get("seed"))

    def describe(self) -> str:
        """One line a person reads: `partition node1,node2 | node3,node4,node5`."""
        d = self.detail
        if "from" in d:
            what = f"{','.join(d['from'])} cannot reach {','.join(d['to'])}"
        elif d.get("shape") == "majority-ring":
            what = "majority-ring: " + "; ".join(f"{v[0]} sees {','.join(v[1:])}"
                                                 for v in d["groups"])
        elif "groups" in d:
            what = " | ".join(",".join(g) for g in d["groups"])
            what = f"{d['shape']}: {what}" if "shape" in d else what
        elif self.kind == LOSS:
            what = f"{d['percent']:g}% {_between(d)}"
        elif self.kind == RATE:
            what = f"{d['rate']} {_between(d)}"
        elif self.kind == DELAY:
            jitter = f" ±{d['jitter_ms']:g}ms" if d.get("jitter_ms") else ""
            what = f"{d['delay_ms']:g}ms{jitter} {_between(d)}"
        else:
            what = ",".join(self.targets)
        return f"{self.kind} {what}"


def _between(detail: dict[str, Any]) -> str:
    peers = ",".join(detail["peers"]) if detail.get("peers") else "every other node"
    return f"between {','.join(detail['nodes'])} and {peers}"


def new_id(kind: str) -> str:
    """A fault id for the command line: the kind and 6 random hex digits."""
    return f"{kind}-{secrets.token_hex(3)}"


def _in_order(names: set[str], members: Sequence[str]) -> tuple[str, ...]:
    return tuple(m for m in members if m in names)


def _partition(definition: FaultDef, members: Sequence[str], rng: random.Random,
               ) -> dict[str, Any]:
    nodes = [m for m in members if m != TESTER_NAME]
    if definition.from_:
        return {"from": list(_in_order(set(definition.from_), members)),
                "to": list(_in_order(set(definition.to), members))}
    if definition.shape is not None:
        groups, cuts = SHAPES[definition.shape](nodes, rng)
        return {"shape": definition.shape, "groups": groups, "cuts": [list(c) for c in cuts]}
    named = {n for group in definition.groups for n in group}
    groups = [list(_in_order(set(g), members)) for g in definition.groups]
    rest = [n for n in nodes if n not in named]
    if rest:
        groups.append(rest)  # the nodes left out form one more group (as Blockade does)
    return {"groups": groups, "cuts": [list(c) for c in cuts_between(groups, list(members))]}


def concrete(definition: FaultDef, members: Sequence[str], fault_id: str,
             rng: random.Random | None = None, seed: int | None = None) -> Fault:
    """The fault `definition` declares, for a cluster of `members` (node names, then "tester"),
    its shape drawn from `rng` (a `random.Random(seed)` when not given). The definition has
    passed `fault_problems`."""
    rng = rng or random.Random(seed)
    kind = definition.kind
    detail: dict[str, Any]
    if kind == PARTITION:
        detail = _partition(definition, members, rng)
    elif kind == ISOLATE:
        alone = [[n] for n in _in_order(set(definition.nodes), members)]
        detail = _partition(FaultDef(PARTITION, groups=tuple(tuple(g) for g in alone)),
                            members, rng)
    elif kind in (LOSS, RATE, DELAY):
        pairs = links(definition.nodes, definition.peers, list(members))
        detail = {"nodes": list(_in_order(set(definition.nodes), members)),
                  "peers": list(_in_order(set(definition.peers), members)),
                  "links": [list(p) for p in pairs]}
        if kind == LOSS:
            detail["percent"] = definition.percent
        elif kind == RATE:
            detail["rate"] = definition.rate
        else:
            detail["delay_ms"] = round((definition.delay or 0) * 1000, 3)
            detail["jitter_ms"] = round(definition.jitter * 1000, 3)
    else:
        detail = {}
    involved = {n for pair in detail.get("cuts", detail.get("links", [])) for n in pair}
    involved |= set(detail.get("from", [])) | set(detail.get("to", []))
    if not detail:
        involved = set(definition.nodes)
    return Fault(fault_id, kind, _in_order(involved, members), detail, seed)

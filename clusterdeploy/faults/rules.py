"""What the active faults mean inside one node's network namespace: the rules of the chain
clusterdeploy owns, and the traffic shaping of its interface. Pure.

A node's state is rendered whole from every active fault that touches it, so applying or
healing one fault is the same operation: render the node again. Each rule is tagged with its
fault (`-m comment --comment clusterdeploy:<id>`), so `iptables-save` shows what put it there.

- partition (and isolate): the node drops what comes from each node it is cut from (INPUT, both
  sides): silent, as a real partition is (an OUTPUT drop would fail the sender's send() with
  EPERM instead);
- one-way `from` -> `to`: `to` drops packets of connections (and flows) that `from` starts
  (conntrack's ORIGINAL direction), so `from` cannot reach `to`, while `to` still reaches
  `from` and gets its answers;
- loss: each side of a link drops that share of what comes from the other (iptables
  `statistic`);
- rate and delay: each side's egress towards the other goes through its own class of an htb
  qdisc (handle `cd:`; netem under it for a delay); other traffic, the tester's too, is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..clusterspec.faults import DELAY, LOSS, RATE
from .model import Fault

CHAIN = "CLUSTERDEPLOY-FAULTS"
TAG = "clusterdeploy:"
QDISC = "cd:"  # the root qdisc handle clusterdeploy owns
UNITS = {"bit": 1, "kbit": 10**3, "mbit": 10**6, "gbit": 10**9}


def _rule(address: str, fault: Fault, *match: str) -> str:
    return " ".join(["-A", CHAIN, "-s", f"{address}/32", *match,
                     "-m", "comment", "--comment", f"{TAG}{fault.id}", "-j", "DROP"])


def _other(node: str, pair: Sequence[str]) -> str | None:
    a, b = pair
    return b if node == a else a if node == b else None


def chain_rules(node: str, faults: Sequence[Fault], addresses: Mapping[str, str]) -> list[str]:
    """The rules of CHAIN in `node`'s namespace (iptables-restore lines), fault by fault."""
    rules = []
    for fault in faults:
        detail = fault.detail
        if "from" in detail and node in detail["to"]:
            rules += [_rule(addresses[source], fault, "-m", "conntrack", "--ctdir", "ORIGINAL")
                      for source in detail["from"] if source != node]
        for pair in detail.get("cuts", []):
            other = _other(node, pair)
            if other is not None:
                rules.append(_rule(addresses[other], fault))
        if fault.kind == LOSS:
            probability = f"{float(detail['percent']) / 100:.5f}"
            for pair in detail["links"]:
                other = _other(node, pair)
                if other is not None:
                    rules.append(_rule(addresses[other], fault, "-m", "statistic", "--mode",
                                       "random", "--probability", probability))
    return rules


@dataclass(frozen=True)
class Shape:
    """How the node's egress towards one peer is shaped."""

    peer: str
    address: str
    rate: str | None  # tc rate, e.g. 1mbit
    delay_ms: float
    jitter_ms: float
    faults: tuple[str, ...]


def bits(rate: str) -> float:
    """A tc rate (`1mbit`) in bit/s."""
    for unit in sorted(UNITS, key=len, reverse=True):
        if rate.endswith(unit):
            return float(rate[: -len(unit)]) * UNITS[unit]
    raise ValueError(f"not a rate: {rate}")


def shapes(node: str, faults: Sequence[Fault], addresses: Mapping[str, str]) -> list[Shape]:
    """Per peer of `node`: the lowest rate and the sum of the delays of the faults on their
    link, in the order the peers first appear."""
    found: dict[str, Shape] = {}
    for fault in faults:
        if fault.kind not in (RATE, DELAY):
            continue
        for pair in fault.detail["links"]:
            peer = _other(node, pair)
            if peer is None:
                continue
            old = found.get(peer) or Shape(peer, addresses[peer], None, 0.0, 0.0, ())
            rate = old.rate
            if fault.kind == RATE:
                new = str(fault.detail["rate"])
                rate = new if rate is None or bits(new) < bits(rate) else rate
            delay = old.delay_ms + (float(fault.detail["delay_ms"]) if fault.kind == DELAY
                                    else 0.0)
            jitter = old.jitter_ms + (float(fault.detail["jitter_ms"]) if fault.kind == DELAY
                                      else 0.0)
            found[peer] = Shape(peer, old.address, rate, delay, jitter, (*old.faults, fault.id))
    return list(found.values())


def touched(fault: Fault) -> tuple[str, ...]:
    """The nodes whose namespace a network fault changes (all of its targets)."""
    return fault.targets if fault.is_network else ()

"""Faults as a person declares them: in the spec's `faults:` section, or on the command line.

A `FaultDef` names nodes; the faults stage (clusterdeploy/faults/) turns it into a concrete
fault (a generated shape drawn from the seed) and into rules. What can be wrong with one (an
unknown node, an empty group, a node in two groups, a percent out of range) is checked here, once,
for both: `fault_problems` returns (sub-path, what, fix) triples that the spec turns into
Problems and the CLI into one line each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .durations import parse_duration

PARTITION, ISOLATE, LOSS, RATE, DELAY = "partition", "isolate", "loss", "rate", "delay"
PAUSE, KILL, STOP = "pause", "kill", "stop"
NETWORK_KINDS = (PARTITION, ISOLATE, LOSS, RATE, DELAY)
PROCESS_KINDS = (PAUSE, KILL, STOP)
KINDS = NETWORK_KINDS + PROCESS_KINDS
SHAPES = ("halves", "majority-ring", "bridge", "random-node")
TESTER_NAME = "tester"  # the tester's member name: never faulted unless named
RATE_PATTERN = r"[0-9]+(\.[0-9]+)?(bit|kbit|mbit|gbit)"

# The keys each kind takes besides `fault` and the timing keys.
KEYS: dict[str, tuple[str, ...]] = {
    PARTITION: ("groups", "shape", "from", "to"),
    ISOLATE: ("nodes",),
    LOSS: ("nodes", "peers", "percent"),
    RATE: ("nodes", "peers", "rate"),
    DELAY: ("nodes", "peers", "delay", "jitter"),
    PAUSE: ("nodes",),
    KILL: ("nodes",),
    STOP: ("nodes",),
}
TIMING = ("at", "for", "every", "times")

Found = tuple[str, str, str]  # (sub-path, what is wrong, how to fix it)


@dataclass(frozen=True)
class FaultDef:
    """One fault as declared: what it does and to which nodes (by node name)."""

    kind: str
    groups: tuple[tuple[str, ...], ...] = ()
    shape: str | None = None
    from_: tuple[str, ...] = ()  # one-way partition: these cannot reach `to`
    to: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()  # loss, rate, delay: with these (default: every other node)
    percent: float | None = None
    rate: str | None = None
    delay: float | None = None  # seconds
    jitter: float = 0.0  # seconds


@dataclass(frozen=True)
class ScheduledDef:
    """A fault of the spec's schedule: when it starts (after the suite started), for how long
    (None: until the suite ends), and how often."""

    fault: FaultDef
    at: float
    duration: float | None
    every: float | None
    times: int
    path: str


@dataclass(frozen=True)
class FaultsSpec:
    seed: int | None = None
    helper_image: str | None = None  # an image with iptables and tc instead of the built one
    schedule: tuple[ScheduledDef, ...] = ()


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


def fault_def(raw: dict[str, Any]) -> FaultDef:
    """A schema-valid fault mapping as a FaultDef."""
    return FaultDef(
        kind=raw["fault"],
        groups=tuple(_names(g) for g in raw.get("groups", ())),
        shape=raw.get("shape"),
        from_=_names(raw.get("from")),
        to=_names(raw.get("to")),
        nodes=_names(raw.get("nodes")),
        peers=_names(raw.get("peers")),
        percent=float(raw["percent"]) if "percent" in raw else None,
        rate=raw.get("rate"),
        delay=parse_duration(raw["delay"]) if "delay" in raw else None,
        jitter=parse_duration(raw["jitter"]) if "jitter" in raw else 0.0,
    )


def faults_spec(raw: dict[str, Any]) -> tuple[FaultsSpec, list[Problem]]:
    """The spec's `faults:` section (schema-valid), and what its timing gets wrong."""
    schedule, problems = [], []
    for i, entry in enumerate(raw.get("schedule", [])):
        path = f"faults.schedule[{i}]"
        every = parse_duration(entry["every"]) if "every" in entry else None
        duration = parse_duration(entry["for"]) if "for" in entry else None
        times = int(entry.get("times", 1))
        if every is not None and "times" not in entry:
            problems.append(Problem(f"{path}.every", "every needs times (how many occurrences)",
                                    "add times: N, e.g. times: 3"))
        if "times" in entry and times > 1 and every is None:
            problems.append(Problem(f"{path}.times", f"{times} occurrences need every",
                                    "add every: DURATION (the time between two starts)"))
        if every is not None and every <= 0:
            problems.append(Problem(f"{path}.every", "every must be longer than 0s",
                                    "write a duration like 30s"))
        elif every is not None and times > 1 and (duration is None or duration >= every):
            problems.append(Problem(f"{path}.for", "each occurrence must end before the next "
                                                   "starts",
                                    f"make for shorter than every, {entry['every']}"))
        if duration is not None and duration <= 0:
            problems.append(Problem(f"{path}.for", "for must be longer than 0s",
                                    "write a duration like 10s, or leave it out (until the "
                                    "suite ends)"))
        schedule.append(ScheduledDef(fault_def(entry), parse_duration(entry.get("at", "0s")),
                                     duration, every, times, path))
    return FaultsSpec(raw.get("seed"), raw.get("helper_image"), tuple(schedule)), problems


def _unknown(names: tuple[str, ...], known: list[str], path: str) -> list[Found]:
    return [(f"{path}[{i}]" if len(names) > 1 else path, f"unknown node {name!r}",
             f"use one of {', '.join(known)}")
            for i, name in enumerate(names) if name not in known]


def _extra_keys(fault: FaultDef) -> list[Found]:
    given = {"groups": bool(fault.groups), "shape": fault.shape is not None,
             "from": bool(fault.from_), "to": bool(fault.to), "nodes": bool(fault.nodes),
             "peers": bool(fault.peers), "percent": fault.percent is not None,
             "rate": fault.rate is not None, "delay": fault.delay is not None,
             "jitter": bool(fault.jitter)}
    allowed = KEYS[fault.kind]
    return [(f".{key}", f"{fault.kind} takes no {key}",
             f"remove it; {fault.kind} takes {', '.join(allowed)}")
            for key, present in given.items() if present and key not in allowed]


def _partition(fault: FaultDef, nodes: list[str]) -> list[Found]:
    forms = [form for form, given in (("groups", fault.groups), ("shape", fault.shape),
                                      ("from/to", fault.from_ or fault.to)) if given]
    if len(forms) != 1:
        return [("", f"a partition takes one of groups, shape or from/to "
                     f"({'got ' + ' and '.join(forms) if forms else 'none given'})",
                 "e.g. groups: [[node1, node2], [node3]], shape: majority-ring, or "
                 "from: node1, to: node2")]
    found: list[Found] = []
    if fault.from_ or fault.to:
        found += _unknown(fault.from_, nodes, ".from") + _unknown(fault.to, nodes, ".to")
        if not fault.from_ or not fault.to:
            found.append((".from" if not fault.from_ else ".to",
                          "a one-way partition needs both from and to",
                          "name the nodes that cannot reach (from) and those they cannot reach "
                          "(to)"))
        both = sorted(set(fault.from_) & set(fault.to))
        if both:
            found.append((".to", f"{', '.join(both)} cannot be on both sides",
                          "name each node in from or in to"))
        return found
    if fault.shape is not None:
        return [] if fault.shape in SHAPES else [(".shape", f"unknown shape {fault.shape!r}",
                                                  f"use one of {', '.join(SHAPES)}")]
    seen: dict[str, int] = {}
    for g, group in enumerate(fault.groups):
        if not group:
            found.append((f".groups[{g}]", f"group {g + 1} is empty", "name at least one node"))
        found += _unknown(group, nodes, f".groups[{g}]")
        for name in group:
            if name in seen:
                found.append((f".groups[{g}]", f"{name} is in group {seen[name] + 1} and in "
                                               f"group {g + 1}",
                              "put each node in one group"))
            seen.setdefault(name, g)
    named = set(seen)
    rest = [n for n in nodes if n not in named and n != TESTER_NAME]
    if not found and len(fault.groups) + (1 if rest else 0) < 2:
        found.append((".groups", "the groups cut no link: every node is in one group",
                      "name at least two groups, or leave some nodes out: they form one more "
                      "group"))
    return found


def links(nodes: tuple[str, ...], peers: tuple[str, ...], members: list[str],
          ) -> list[tuple[str, str]]:
    """The links a loss, rate or delay acts on: each node with each peer (default: every node
    of the cluster but itself; the tester only when named), each pair once, in member order."""
    order = {name: i for i, name in enumerate(members)}
    with_ = peers or tuple(m for m in members if m != TESTER_NAME)
    pairs = {tuple(sorted((n, p), key=lambda x: order.get(x, len(order))))
             for n in nodes for p in with_ if p != n}
    return sorted(((a, b) for a, b in pairs), key=lambda ab: (order.get(ab[0], 0),
                                                              order.get(ab[1], 0)))


def fault_problems(fault: FaultDef, members: list[str]) -> list[Found]:
    """What is wrong with a fault, for a cluster whose members (nodes, then "tester" when it
    has one) are `members`. Empty when it can be applied."""
    if fault.kind not in KINDS:
        return [(".fault", f"unknown fault {fault.kind!r}", f"use one of {', '.join(KINDS)}")]
    found = _extra_keys(fault)
    if found:
        return found
    if fault.kind == PARTITION:
        return _partition(fault, members)
    if not fault.nodes:
        return [(".nodes", f"{fault.kind} needs nodes", "name at least one node, e.g. node2")]
    found += _unknown(fault.nodes, members, ".nodes") + _unknown(fault.peers, members, ".peers")
    if found:
        return found
    if fault.kind in (LOSS, RATE, DELAY) and not links(fault.nodes, fault.peers, members):
        found.append((".peers", "no link left to fault: the nodes have no peer",
                      "name peers that are not among the nodes"))
    if fault.kind == LOSS and (fault.percent is None or not 0 < fault.percent <= 100):
        shown = "" if fault.percent is None else f" {fault.percent:g}"
        found.append((".percent", f"percent{shown} is out of range",
                      "give a percentage above 0 and at most 100, e.g. 30"))
    if fault.kind == RATE and (fault.rate is None or
                               re.fullmatch(RATE_PATTERN, fault.rate) is None):
        found.append((".rate", f"rate {fault.rate!r} is not a rate tc reads",
                      "write a number and a unit: 1mbit, 512kbit, 10gbit"))
    if fault.kind == DELAY:
        if fault.delay is None or fault.delay <= 0:
            found.append((".delay", "delay must be longer than 0s",
                          "write a duration like 100ms"))
        if fault.jitter < 0:
            found.append((".jitter", "jitter cannot be negative", "write a duration like 10ms"))
    return found


def schedule_problems(faults: FaultsSpec, members: list[str]) -> list[Problem]:
    """Every schedule entry's fault, checked against the cluster's members."""
    return [Problem(f"{entry.path}{sub}", what, fix)
            for entry in faults.schedule for sub, what, fix in fault_problems(entry.fault,
                                                                             members)]

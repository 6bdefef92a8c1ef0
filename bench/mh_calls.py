"""What the engines' docker-call logs say about one run: calls per host, where the wall time
went, and whether the hosts converged at the same time or one after the other.

A log line (mh_engines.SHIM): `<start> <end> <exit status> <argv...>`, times in seconds since
the epoch. Pure functions, so they can be checked without engines.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GROUPED = frozenset({"network", "image", "container", "swarm", "system", "volume", "node",
                     "service"})


@dataclass(frozen=True)
class Call:
    start: float
    end: float
    status: int
    kind: str


def command_kind(words: list[str]) -> str:
    """`docker network create ...` -> "network create", `docker inspect ...` -> "inspect"."""
    words = [w for w in words if not w.startswith("-")][:2]
    if not words:
        return "?"
    return " ".join(words) if words[0] in GROUPED and len(words) > 1 else words[0]


def read_calls(path: Path) -> list[Call]:
    calls = []
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            fields = line.split()
            with contextlib.suppress(ValueError, IndexError):
                calls.append(Call(float(fields[0]), float(fields[1]), int(fields[2]),
                                  command_kind(fields[3:])))
    return sorted(calls, key=lambda c: c.start)


def union(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one interval."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def busy(calls: list[Call]) -> float:
    """Seconds in which at least one of `calls` ran."""
    return union([(c.start, c.end) for c in calls])


def calls_summary(calls: list[Call], began: float) -> dict[str, Any]:
    if not calls:
        return {"total": 0, "by_command": {}, "busy": 0.0, "first": None, "last": None,
                "failed": 0}
    return {
        "total": len(calls),
        "by_command": dict(sorted(Counter(c.kind for c in calls).items())),
        "busy": round(busy(calls), 3),
        "first": round(calls[0].start - began, 3),
        "last": round(max(c.end for c in calls) - began, 3),
        "failed": sum(1 for c in calls if c.status != 0),
    }


def timeline(hosts: dict[str, list[Call]], began: float, wall: float) -> dict[str, float]:
    """Where a run's wall time went, from the engines' docker calls: `lead` (until the first
    call on any engine: pyinfra's start-up, the spec, connecting, the lock), `active` (some
    engine runs a docker call), `gaps` (between calls: shell commands that are not docker,
    file writes, pyinfra between operations and phases), `tail` (after the last call: pyinfra's
    end, the lock's release)."""
    calls = [c for host_calls in hosts.values() for c in host_calls]
    if not calls:
        return {"wall": round(wall, 3), "lead": round(wall, 3), "active": 0.0, "gaps": 0.0,
                "tail": 0.0}
    lead = min(c.start for c in calls) - began
    tail = began + wall - max(c.end for c in calls)
    active = busy(calls)
    return {"wall": round(wall, 3), "lead": round(lead, 3), "active": round(active, 3),
            "gaps": round(wall - lead - tail - active, 3), "tail": round(tail, 3)}


def concurrency(hosts: dict[str, list[Call]], wall: float) -> dict[str, float] | None:
    """Did the hosts converge at the same time? A host's busy time: when at least one docker
    call ran there. Against the wall time: `outside` (no docker call on any host: start-up,
    planning, the swarm's and pyinfra's own steps), and the wall time the run would have taken
    with the slowest host alone (`outside + max busy`) or the hosts one after the other
    (`outside + sum of busy`). `position` is 0 at the slowest host, 1 at the sum."""
    if len(hosts) < 2:
        return None
    per_host = [busy(calls) for calls in hosts.values()]
    anywhere = busy([c for calls in hosts.values() for c in calls])
    outside = wall - anywhere
    slowest, serial = outside + max(per_host), outside + sum(per_host)
    return {"wall": round(wall, 3), "outside": round(outside, 3),
            "busy_max": round(max(per_host), 3), "busy_sum": round(sum(per_host), 3),
            "busy_anywhere": round(anywhere, 3), "slowest_host": round(slowest, 3),
            "sum_of_hosts": round(serial, 3),
            "position": round((wall - slowest) / (serial - slowest), 3)
            if serial > slowest else 0.0}

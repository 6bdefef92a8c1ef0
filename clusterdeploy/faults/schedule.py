"""The spec's fault schedule made concrete: every occurrence, its shape drawn, its time fixed.

One `random.Random(seed)` is drawn from in the schedule's order (entry by entry, occurrence by
occurrence), so the same spec and seed give the same concrete schedule, which a run writes to
its log folder as `faults.json`. Pure.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ..clusterspec import Spec
from .model import Fault, concrete


@dataclass(frozen=True)
class Planned:
    fault: Fault
    at: float  # seconds after the suite started
    duration: float | None  # None: until the suite ends

    def as_json(self) -> dict[str, object]:
        return {**self.fault.as_json(), "at": self.at, "for": self.duration}

    def describe(self) -> str:
        until = f"for {self.duration:g}s" if self.duration is not None else "until the end"
        return f"{self.fault.id} at {self.at:g}s {until}: {self.fault.describe()}"


def concrete_schedule(spec: Spec, seed: int) -> list[Planned]:
    """Every occurrence of the schedule, in the order they start."""
    rng = random.Random(seed)
    members = [m.name for m in spec.members]
    planned = []
    for i, entry in enumerate(spec.faults.schedule):
        for k in range(entry.times):
            suffix = f"-{k + 1}" if entry.times > 1 else ""
            fault = concrete(entry.fault, members, f"s{i + 1}{suffix}-{entry.fault.kind}", rng,
                             seed)
            planned.append(Planned(fault, entry.at + k * (entry.every or 0.0), entry.duration))
    return sorted(planned, key=lambda p: (p.at, p.fault.id))


def schedule_text(planned: list[Planned]) -> str:
    """`faults.json`: the concrete schedule, a list of {id, fault, targets, detail, seed, at,
    for}."""
    return json.dumps([p.as_json() for p in planned], indent=2) + "\n"

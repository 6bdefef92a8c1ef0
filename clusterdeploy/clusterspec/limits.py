"""Limits a Docker engine refuses, caught before any change: memory, swap, ulimits."""

from __future__ import annotations

from ..errors import Problem
from .model import Spec
from .sizes import parse_size

MIN_MEMORY = 6 << 20  # Docker refuses less ("Minimum memory limit allowed is 6MB")


def check_limits(spec: Spec) -> list[Problem]:
    """Limits a Docker engine refuses: memory under 6m, swap under memory, soft over hard."""
    problems = []
    for member in spec.members:
        settings = member.settings
        where = member.path
        memory = parse_size(settings["memory"]) if "memory" in settings else None
        if memory is not None and memory < MIN_MEMORY:
            problems.append(Problem(f"{where}.memory", f"{settings['memory']} is under 6m, "
                                    "the least a Docker engine allows", "give at least 6m"))
        swap = settings.get("memory_swap")
        if swap is not None and swap != "-1" and (memory is None or parse_size(swap) < memory):
            problems.append(Problem(f"{where}.memory_swap", f"{swap} needs a memory limit no "
                                    "larger than it", "set memory, at most memory_swap, or "
                                    "use -1 for unlimited swap"))
        for name, limit in (settings.get("ulimits") or {}).items():
            if isinstance(limit, dict) and limit["soft"] > limit["hard"] >= 0:
                problems.append(Problem(f"{where}.ulimits.{name}", f"soft {limit['soft']} is "
                                        f"over hard {limit['hard']}", "make soft <= hard"))
    return sorted(set(problems))

"""The benchmark's statistics: paired ratios with their spread, and verdicts that say when the
spread cannot tell.

Pure functions over the raw times `run.py` records: `raw[N][tool][phase]` is a list with one
value per repetition (index = repetition), so the same index of two tools is a pair measured
in the same repetition, one right after the other (in a rotating order). A ratio is the median
of the per-repetition ratios, shown with their min-max; a target is met or missed only when the
whole spread lies on one side of its limit, otherwise it is within noise.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

PHASES = ("cold", "noop", "change1", "teardown")
# clusterdeploy's teardown without its log collection (compose collects none): shown, no target
EXTRA_PHASES = ("teardown_nologs",)
MET, MISSED, NOISE = "met", "MISSED", "within noise"


def spread(values: Sequence[float | None]) -> dict[str, float] | None:
    """Median, min and max of some values (None when there are none)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values)}


def paired(a: Sequence[float | None], b: Sequence[float | None],
           how: str = "ratio") -> list[float]:
    """Per-repetition a/b (or a-b): pairs are the same index; a repetition one of the two
    lacks is left out."""
    pairs = [(x, y) for x, y in zip(a, b, strict=False) if x is not None and y is not None]
    if how == "ratio":
        return [x / y for x, y in pairs if y]
    return [x - y for x, y in pairs]


def verdict(low: float, high: float, limit: float) -> str:
    """At most `limit`: met when even the worst repetition is, missed when even the best is
    not, within noise when the spread straddles the limit."""
    if high <= limit:
        return MET
    if low > limit:
        return MISSED
    return NOISE


def rotation(tools: Sequence[str], rep: int) -> list[str]:
    """The tools' order in repetition `rep`: each repetition starts one tool later, so no tool
    always runs first (on a cold cache) or right after a heavy one."""
    shift = rep % len(tools) if tools else 0
    return [*tools[shift:], *tools[:shift]]


def summarize(raw: dict[str, dict[str, dict[str, list[float]]]]) -> dict[str, Any]:
    """Per N and phase: each tool's times, clusterdeploy's paired ratios to compose and to the
    CLI floor, and its own part of a no-op (no-op minus pyinfra's start-up, per repetition)."""
    summary: dict[str, Any] = {}
    for n, per_tool in raw.items():
        cd = per_tool.get("clusterdeploy", {})
        compose = per_tool.get("compose", {})
        floor = per_tool.get("cli", {})
        row: dict[str, Any] = {}
        for phase in (*PHASES, *EXTRA_PHASES):
            against = "teardown" if phase in EXTRA_PHASES else phase
            row[phase] = {
                "clusterdeploy": spread(cd.get(phase, [])),
                "compose": spread(compose.get(against, [])),
                "cli": spread(floor.get(against, [])),
                "vs_compose": spread(paired(cd.get(phase, []), compose.get(against, []))),
                "vs_floor": spread(paired(cd.get(phase, []), floor.get(against, []))),
            }
        for key in ("startup_bare", "startup"):
            row[key] = spread(cd.get(key, []))
        row["noop_own"] = spread(paired(cd.get("noop", []), cd.get("startup_bare", []), "diff"))
        row["noop_beyond_inventory"] = spread(
            paired(cd.get("noop", []), cd.get("startup", []), "diff"))
        summary[n] = row
    return summary


# (what, N, the summary's keys, limit): every phase at every size no slower than compose; the
# no-op at N=100 at most half of compose's; our own part of a no-op within a budget in seconds
def target_list(sizes: Sequence[str]) -> list[tuple[str, str, tuple[str, ...], float]]:
    found = [(f"{phase} N={n} <= 1.0x compose", n, (phase, "vs_compose"), 1.0)
             for n in sizes for phase in PHASES]
    found.append(("noop N=100 <= 0.5x compose", "100", ("noop", "vs_compose"), 0.5))
    found.append(("own part of a no-op N=5 <= 0.2 s", "5", ("noop_own",), 0.2))
    found.append(("own part of a no-op N=100 <= 0.4 s", "100", ("noop_own",), 0.4))
    return [t for t in found if t[1] in sizes]


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target's median, spread and verdict (None: not measured)."""
    out = []
    for name, n, keys, limit in target_list(list(summary)):
        value: Any = summary.get(n, {})
        for key in keys:
            value = (value or {}).get(key)
        result = None if not value else verdict(value["min"], value["max"], limit)
        out.append({"target": name, "n": n, "limit": limit, "value": value,
                    "verdict": result})
    return out

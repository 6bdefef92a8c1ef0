"""The multi-host benchmark's repetitions summed up: per phase and variant the medians with their
min-max, and the 3-host / 1-host ratio as bench/stats.py makes every ratio (the median of the
per-repetition ratios, the two variants of a repetition run back to back)."""

from __future__ import annotations

import statistics
from typing import Any

from stats import paired, spread

PHASES = ("cold_fresh", "cold", "noop", "teardown")
PHASE_TITLES = {"cold_fresh": "cold, from nothing", "cold": "cold, image on the hosts",
                "noop": "no-op redeploy", "teardown": "teardown"}
VARIANT_NAMES = ("1host", "3host")
CONCURRENCY_KEYS = ("wall", "outside", "busy_max", "busy_sum", "busy_anywhere", "slowest_host",
                    "sum_of_hosts", "position")


def phase_runs(reps: list[dict[str, Any]], variant: str, phase: str) -> list[dict[str, Any]]:
    """Every run of a phase of a variant (a cycle may hold several no-ops)."""
    out: list[dict[str, Any]] = []
    for rep in reps:
        found = rep["variants"].get(variant, {}).get(phase)
        if isinstance(found, list):
            out += found
        elif found is not None:
            out.append(found)
    return out


def rep_walls(reps: list[dict[str, Any]], variant: str, phase: str) -> list[float | None]:
    """One wall time per repetition (the median of its runs), None where it has none: the
    same index of the two variants is a pair."""
    walls: list[float | None] = []
    for rep in reps:
        runs = phase_runs([rep], variant, phase)
        walls.append(statistics.median(r["wall"] for r in runs) if runs else None)
    return walls


def variant_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One variant's runs of one phase: each measure's median and min-max."""
    hosts = sorted({h for r in runs for h in r["calls"]})
    row: dict[str, Any] = {
        "wall": spread([r["wall"] for r in runs]),
        "load1": spread([r["load1_before"] for r in runs]),
        "machine_busy_cores": spread([r["machine_busy_cores"] for r in runs]),
        "client_cpu": spread([r["client_cpu"] for r in runs]),
        "engine_cpu": {part: spread([sum(e[part] for e in r["engine_cpu"].values())
                                     for r in runs if r["engine_cpu"]])
                       for part in ("daemon", "sshd", "containers")},
        "calls": {h: spread([r["calls"][h]["total"] for r in runs]) for h in hosts},
        "by_command": {h: runs[-1]["calls"][h]["by_command"] for h in hosts},
        "busy": {h: spread([r["calls"][h]["busy"] for r in runs]) for h in hosts},
        "timeline": {key: spread([r["timeline"][key] for r in runs])
                     for key in ("wall", "lead", "active", "gaps", "tail")},
        "ssh": {h: {key: spread([r["ssh"][h][key] for r in runs])
                    for key in ("connections", "commands")} for h in runs[0]["ssh"]},
    }
    conc = [r["concurrency"] for r in runs if r["concurrency"]]
    if conc:
        row["concurrency"] = {key: spread([c[key] for c in conc]) for key in CONCURRENCY_KEYS}
    return row


def summarize(reps: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for phase in PHASES:
        ratios = paired(rep_walls(reps, "3host", phase), rep_walls(reps, "1host", phase))
        row: dict[str, Any] = {"ratio_3host_1host": spread(ratios)}
        for variant in VARIANT_NAMES:
            runs = phase_runs(reps, variant, phase)
            if runs:
                row[variant] = variant_row(runs)
        summary[phase] = row
    return summary


def load_summary(reps: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """The 1-minute load before every timed run, and how many started above `threshold`."""
    loads = [r["load1_before"] for phase in PHASES for v in VARIANT_NAMES
             for r in phase_runs(reps, v, phase)]
    return {"load1": spread(loads), "runs_above_threshold": {
        "threshold": threshold, "count": sum(1 for x in loads if x > threshold),
        "of": len(loads)}}


def placement(reps: list[dict[str, Any]]) -> str:
    """Nodes per host of the 3-host variant, e.g. "10/10/10"."""
    found = [rep["variants"]["3host"]["placement"] for rep in reps
             if "3host" in rep["variants"]]
    return "/".join(str(v) for _, v in sorted(found[-1].items())) if found else "-"

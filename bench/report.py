"""The results as Markdown: `results/latest.md`, and the table the README quotes."""

from __future__ import annotations

from typing import Any

from stats import EXTRA_PHASES, NOISE, PHASES

LABELS = {"cold": "cold", "noop": "no-op", "change1": "change-one",
          "teardown": "teardown (cd: with log collection)",
          "teardown_nologs": "teardown, cd without log collection"}
NOISY_LOAD = 4.0


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def cell(s: dict[str, float] | None) -> str:
    """A median with its min-max."""
    if not s:
        return "-"
    if s["n"] == 1:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"


def load_note(result: dict[str, Any]) -> str:
    loads = [float(v) for v in result.get("load", {}).values()]
    if not loads:
        return ""
    text = (f"1-minute load average at the repetitions' starts: {min(loads):.1f}-"
            f"{max(loads):.1f} (uptime before: `{result.get('uptime_before', '?')}`; after: "
            f"`{result.get('uptime_after', '?')}`).")
    if max(loads) > NOISY_LOAD:
        text += (f" **Noisy:** the load went above {NOISY_LOAD:g} (other work on the 2 cores), "
                 "so single times are inflated; the paired ratios' spreads show how much.")
    return text


def phase_table(result: dict[str, Any]) -> list[str]:
    counts = result.get("docker_calls", {})
    lines = ["| N | phase | clusterdeploy | compose 1.29.2 | CLI floor | cd / compose | "
             "cd / floor | cd docker calls |", "|---|---|---|---|---|---|---|---|"]
    for n, row in result["summary"].items():
        for phase in (*PHASES, *EXTRA_PHASES):
            r = row[phase]
            if not r["clusterdeploy"]:
                continue
            calls = counts.get(n, {}).get(phase, {}).get("total")
            lines.append(f"| {n} | {LABELS[phase]} | {cell(r['clusterdeploy'])} | "
                         f"{cell(r['compose'])} | {cell(r['cli'])} | {cell(r['vs_compose'])} | "
                         f"{cell(r['vs_floor'])} | {'-' if calls is None else calls} |")
    return lines


def startup_table(result: dict[str, Any]) -> list[str]:
    lines = ["| N | pyinfra alone | + our inventory | no-op | no-op minus pyinfra alone "
             "(ours) | no-op minus pyinfra + inventory |", "|---|---|---|---|---|---|"]
    for n, row in result["summary"].items():
        lines.append(f"| {n} | {cell(row['startup_bare'])} | {cell(row['startup'])} | "
                     f"{cell(row['noop']['clusterdeploy'])} | {cell(row['noop_own'])} | "
                     f"{cell(row['noop_beyond_inventory'])} |")
    return lines


def target_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for t in result["targets"]:
        mark = t["verdict"] or "not measured"
        lines.append(f"- {t['target']}: {cell(t['value'])}, limit {t['limit']:g} -> "
                     f"**{mark}**")
    return lines


def counts_table(counts: dict[str, Any]) -> list[str]:
    lines = ["| N | phase | calls | by command | wall | until 1st docker call | observe "
             "| apply | wait healthy (polls) | after last call |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for n, per_phase in counts.items():
        for phase, c in per_phase.items():
            t = c.get("timeline", {})
            detail = ", ".join(f"{k} {v}" for k, v in c["by_command"].items())
            wait = (f"{fmt(t['wait_healthy'])} ({c.get('health_polls', 0)})"
                    if "wait_healthy" in t else "-")
            lines.append(
                f"| {n} | {phase} | {c['total']} | {detail or '-'} | {fmt(c['wall'])} | "
                f"{fmt(t.get('before_first_docker_call'))} | {fmt(t.get('observe'))} | "
                f"{fmt(t.get('apply'))} | {wait} | {fmt(t.get('after_last_docker_call'))} |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    reps = result["reps"]
    lines = [
        f"# Deploy benchmark ({result['started']} - {result.get('finished', '?')})",
        "",
        f"Machine: {result['machine']['summary']}. {reps} repetitions; in each, the tools run "
        f"one after the other in a rotating order ({', '.join(result['tools'])} first in turn). "
        "Seconds: median (min-max) over the repetitions. Ratios: the median (min-max) of the "
        "per-repetition ratios clusterdeploy / other, each pair measured in the same "
        "repetition. A target is met or missed only when the whole spread is on one side of "
        f"its limit; otherwise it is {NOISE}.",
        "",
        "Teardown: clusterdeploy collects every container's logs (and writes the run's "
        "report) before it stops anything; compose and the floor collect none. The row "
        "\"without log collection\" is clusterdeploy's teardown with `--data "
        "collect_logs=false`, against the same compose and floor teardowns.",
        "",
        "Health-check interval per N (see bench/README.md): "
        + ", ".join(f"N={n}: {s}s" for n, s in result["health_interval_s"].items())
        + f". Failed attempts (retried): {len(result['failures'])}.",
        "",
        load_note(result),
        "",
        *phase_table(result),
        "",
        "Start-up, measured apart after each clusterdeploy cycle: pyinfra alone (`pyinfra -y "
        "@local empty_deploy.py`: its imports, an inline inventory, connecting), the same with "
        "clusterdeploy's inventory (+ loading and validating the spec), and the no-op minus "
        "each, per repetition. The no-op minus pyinfra alone is clusterdeploy's own part "
        "(imports, spec, observation, plan, its operations in pyinfra):",
        "",
        *startup_table(result),
        "",
        "Targets:",
        "",
        *target_lines(result),
    ]
    counts = result.get("docker_calls", {})
    if counts:
        lines += ["", "docker calls per clusterdeploy run, and where its time went (a separate "
                  "untimed pass through a logging `docker` shim, which adds ~5 ms per call; "
                  "seconds):", "", *counts_table(counts)]
    return "\n".join(lines) + "\n"

"""The multi-host benchmark's results as Markdown (bench/results/multihost.md): times and
ratios, docker calls per host, whether the hosts converged concurrently, where the time went,
and what bounds the ratios, from the run's own numbers."""

from __future__ import annotations

from typing import Any

from mh_engines import ENGINES
from mh_summary import PHASE_TITLES, PHASES, VARIANT_NAMES

HIGH_LOAD = 4.0  # 1-minute load above which a run counts as loaded (2 cores)


def noop_health_waits(result: dict[str, Any]) -> int | str:
    """How many no-ops were rerun because a health check flapped (not counted before)."""
    found = [runs.get("noop_health_waits") for rep in result["repetitions"]
             for runs in rep["variants"].values()]
    total = sum(n or 0 for n in found)
    return f"{total} (not counted in every run)" if None in found else total


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def fmt_spread(s: dict[str, Any] | None, digits: int = 2) -> str:
    if not s:
        return "-"
    if s["n"] == 1:
        return f"{fmt(s['median'], digits)} (1 run)"
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}-{fmt(s['max'], digits)})"


def med(s: dict[str, Any] | None) -> float | None:
    return None if not s else s["median"]


def bounds_text(summary: dict[str, Any], cores: int) -> list[str]:
    """What bounds each ratio, from this run's own numbers."""
    lines = ["## What bounds the ratios", ""]
    for phase in PHASES:
        row = summary.get(phase, {})
        one, three = row.get("1host"), row.get("3host")
        if not one or not three:
            continue
        ratio = med(row["ratio_3host_1host"])
        daemon1, daemon3 = (med(v["engine_cpu"]["daemon"]) for v in (one, three))
        sshd1, sshd3 = (med(v["engine_cpu"]["sshd"]) for v in (one, three))
        cont1, cont3 = (med(v["engine_cpu"]["containers"]) for v in (one, three))
        client1, client3 = med(one["client_cpu"]), med(three["client_cpu"])
        busy1, busy3 = med(one["machine_busy_cores"]), med(three["machine_busy_cores"])
        cpu1 = sum(v or 0 for v in (daemon1, sshd1, cont1, client1))
        cpu3 = sum(v or 0 for v in (daemon3, sshd3, cont3, client3))
        wall1, wall3 = med(one["wall"]), med(three["wall"])
        calls1 = sum(med(s) or 0 for h, s in one["calls"].items() if h != "here")
        calls3 = sum(med(s) or 0 for h, s in three["calls"].items() if h != "here")
        conc = three.get("concurrency", {})
        lines.append(
            f"- **{PHASE_TITLES[phase]}**: 3-host / 1-host = {fmt(ratio)}. CPU seconds "
            f"(engines' daemons + SSH sessions + containers + this machine's pyinfra): "
            f"1 host {fmt(cpu1, 1)} ({fmt(daemon1, 1)} + {fmt(sshd1, 1)} + {fmt(cont1, 1)} + "
            f"{fmt(client1, 1)}), 3 hosts {fmt(cpu3, 1)} ({fmt(daemon3, 1)} + {fmt(sshd3, 1)} "
            f"+ {fmt(cont3, 1)} + {fmt(client3, 1)}); docker calls on the engines "
            f"{fmt(calls1, 0)} vs {fmt(calls3, 0)}. The whole machine was busy "
            f"{fmt(busy1, 2)} vs {fmt(busy3, 2)} of {cores} cores (other sessions included). "
            + (f"CPU work alone, at {cores} cores, needs at least {fmt(cpu1 / cores, 1)} s vs "
               f"{fmt(cpu3 / cores, 1)} s of the {fmt(wall1, 1)} s vs {fmt(wall3, 1)} s."
               if wall1 and wall3 else "")
            + (f" Over three hosts, docker calls ran on some host "
               f"{fmt(med(conc.get('busy_anywhere')), 1)} s of the wall time, "
               f"{fmt(med(conc.get('outside')), 1)} s had none (start-up, "
               f"connecting, planning, pyinfra's steps between phases)."
               if conc else ""))
    lines += ["",
              f"Reading these: the engines are processes on the same {cores} cores, so three "
              "engines do not add CPU; a three-host deploy can only be faster where the one-host "
              "deploy waits rather than computes (one engine's serial steps, per-host latency) "
              "and is slower by whatever it adds: three SSH connections and observations, the "
              "swarm (manager allocations for every overlay attachment, gossip), shipping the "
              "image three times (`docker save` here once per host, `docker load` on each).",
              ""]
    return lines


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    m = result["machine"]
    loaded = result["load"]["runs_above_threshold"]
    lines = [
        f"# One cluster over three Docker hosts vs one host ({result['started']})",
        "",
        f"Machine: {m['summary']}. `uptime` at the start: `{result['uptime_start']}`; at the "
        f"end: `{result['uptime_end']}`. N = {result['n']} nodes; "
        f"{len(result['repetitions'])} repetition(s) done ({result['fresh']} from nothing, "
        f"then {result['reps']} with the image on the hosts planned); {result['noops']} "
        "no-op(s) per cycle; the order of the variants swapped every repetition. Made by "
        "`bench/multihost.py` (see bench/README.md, \"Several hosts\").",
        "",
        *([result["note"], ""] if result.get("note") else []),
        f"Load: the 1-minute load before the timed runs was {fmt_spread(result['load']['load1'])}"
        f" (median, min-max); {loaded['count']} of {loaded['of']} runs started above "
        f"{HIGH_LOAD:g}. **A shared machine:** other sessions' tests and benchmarks ran on "
        f"the same {m['cpus']} cores, so single times are inflated; compare the paired "
        "ratios.",
        "",
        "Variants: **1 host**: the spec lists one SSH host (engine h1; a bridge network). "
        "**3 hosts**: three SSH hosts (engines h2-h4; a swarm, one attachable overlay network, "
        f"{result['placement_3host']} nodes per host). Both `images: ship`.",
        "",
        "## Times (seconds: median, min-max) and paired ratios",
        "",
        "The ratio is taken per repetition (the two variants ran back to back), then its "
        "median and range.",
        "",
        "| phase | 1 host | 3 hosts | 3 hosts / 1 host |",
        "|---|---|---|---|",
    ]
    for phase in PHASES:
        row = s.get(phase, {})
        if "1host" not in row and "3host" not in row:
            continue
        lines.append(f"| {PHASE_TITLES[phase]} | {fmt_spread((row.get('1host') or {}).get('wall'))}"
                     f" | {fmt_spread((row.get('3host') or {}).get('wall'))} | "
                     f"{fmt_spread(row.get('ratio_3host_1host'))} |")
    lines += ["", "\"From nothing\": fresh engines without the image and (3 hosts) in no swarm: "
              "the cold deploy ships the image to every host (a `docker save` here streamed "
              "into `docker load` there) and forms the swarm. \"Image on the hosts\": the image "
              "is there from an earlier cycle and the three hosts are still in the swarm the "
              "first deploy formed (teardown leaves it by default); the cluster's containers "
              "and network do not exist. The image was built here beforehand (untimed), so no "
              "timing includes a build.", "",
              "## docker calls per host", "",
              "Calls of the docker CLI on each engine (through SSH) and here (`here`: this "
              "machine's engine, e.g. `docker save` for shipping, `docker images`), per run "
              "(median over the runs). `system dial-stdio` is one connection of the Docker "
              "SDK through SSH (teardown's log collection), counted once however long it "
              "stays open.", "",
              "| phase | variant | host | calls | by command |", "|---|---|---|---|---|"]
    for phase in PHASES:
        for variant in VARIANT_NAMES:
            v = s.get(phase, {}).get(variant)
            if not v:
                continue
            for host, calls in v["calls"].items():
                detail = ", ".join(f"{k} {c}" for k, c in v["by_command"][host].items())
                lines.append(f"| {PHASE_TITLES[phase]} | {variant} | {host} | "
                             f"{fmt_spread(calls, 0)} | {detail or '-'} |")
    lines += ["", "## Do the hosts converge concurrently?", "",
              "Per run of the three-host variant: a host's busy time is when at least one "
              "docker call ran on it; `outside` is the wall time with no docker call on any "
              "host. With the slowest host alone the run would take `outside + max busy`, with "
              "the hosts one after the other `outside + sum busy`. Position: 0 = the wall "
              "time equals the slowest host's, 1 = the sum (median, min-max).", "",
              "| phase | wall | outside | busy per host: max | sum | slowest host | "
              "sum of hosts | position |", "|---|---|---|---|---|---|---|---|"]
    for phase in PHASES:
        c = (s.get(phase, {}).get("3host") or {}).get("concurrency")
        if not c:
            continue
        lines.append(f"| {PHASE_TITLES[phase]} | {fmt_spread(c['wall'])} | "
                     f"{fmt_spread(c['outside'])} | {fmt_spread(c['busy_max'])} | "
                     f"{fmt_spread(c['busy_sum'])} | {fmt_spread(c['slowest_host'])} | "
                     f"{fmt_spread(c['sum_of_hosts'])} | {fmt_spread(c['position'])} |")
    lines += ["", "## Where the wall time went", "",
              "From the engines' docker calls (all hosts of the variant together): `lead` until "
              "the first docker call (pyinfra's start-up, the spec, SSH connections, the "
              "cluster's lock), `active` while some engine ran a docker call, `gaps` between "
              "calls (other shell commands such as the per-node files, pyinfra between "
              "operations and phases), `tail` after the last call (pyinfra's end, the lock's "
              "release). SSH: connections and commands (sessions) per host, from each sshd's "
              "log. Seconds, median (min-max).", "",
              "| phase | variant | wall | lead | active | gaps | tail | SSH conn. / commands "
              "per host |", "|---|---|---|---|---|---|---|---|"]
    for phase in PHASES:
        for variant in VARIANT_NAMES:
            v = s.get(phase, {}).get(variant)
            if v:
                tl = v["timeline"]
                ssh = ", ".join(f"{h} {fmt(med(x['connections']), 0)} / "
                                f"{fmt(med(x['commands']), 0)}" for h, x in v["ssh"].items())
                lines.append(f"| {PHASE_TITLES[phase]} | {variant} | {fmt_spread(tl['wall'])} | "
                             f"{fmt_spread(tl['lead'])} | {fmt_spread(tl['active'])} | "
                             f"{fmt_spread(tl['gaps'])} | {fmt_spread(tl['tail'])} | {ssh} |")
    lines += ["", "Busy time per host (median, min-max):", "",
              "| phase | variant | " + " | ".join(f"h{i}" for i in range(1, ENGINES + 1))
              + " |", "|---|---|" + "---|" * ENGINES]
    for phase in PHASES:
        for variant in VARIANT_NAMES:
            v = s.get(phase, {}).get(variant)
            if v:
                cells = [fmt_spread(v["busy"].get(f"h{i}")) for i in range(1, ENGINES + 1)]
                lines.append(f"| {PHASE_TITLES[phase]} | {variant} | " + " | ".join(cells) + " |")
    lines += [""]
    lines += bounds_text(s, m["cpus"])
    lines += ["## CPU seconds per run (median, min-max)", "",
              "Engines: cpuacct cgroups under each engine's cgroup parent, summed over the "
              "variant's engines. `client`: this machine's pyinfra process and what it waited "
              "for (the local docker CLI; not the local engine's own work for `docker save`). "
              "`busy cores`: the whole machine from /proc/stat, other sessions included.", "",
              "| phase | variant | daemons | SSH sessions | containers | client | busy cores |",
              "|---|---|---|---|---|---|---|"]
    for phase in PHASES:
        for variant in VARIANT_NAMES:
            v = s.get(phase, {}).get(variant)
            if v:
                e = v["engine_cpu"]
                lines.append(f"| {PHASE_TITLES[phase]} | {variant} | "
                             f"{fmt_spread(e['daemon'])} | {fmt_spread(e['sshd'])} | "
                             f"{fmt_spread(e['containers'])} | {fmt_spread(v['client_cpu'])} | "
                             f"{fmt_spread(v['machine_busy_cores'])} |")
    lines += ["", f"The docker wrapper adds {fmt(result['shim_overhead_ms'], 1)} ms per call "
              "(median, measured here on `docker --version`); it ran in every timed run of both "
              "variants.", "",
              f"Failed attempts (retried): {len(result['failures'])}. No-op redeploys "
              "whose plan only waited for a flapping health check (not timed, run again): "
              f"{noop_health_waits(result)}."]
    if result.get("aborted"):
        lines += ["", f"**Ended early** after {len(result['repetitions'])} repetition(s): "
                  f"`{result['aborted'][-300:]}`"]
    return "\n".join(lines) + "\n"

#!/usr/bin/env python3
"""Deploy-speed benchmark: clusterdeploy vs docker-compose 1.29.2 vs the raw docker CLI.

Plain Python (stdlib only), run by hand from anywhere; not part of the test suite:

    python3 bench/run.py                       # N = 5, 30, 100; 5 repetitions; all three tools
    python3 bench/run.py --sizes 5 --reps 1    # a quick check

For every N it generates one cluster shape and measures, per tool and repetition (the tools in
a rotating order), cold deploy (nothing exists -> every node running and healthy), no-op
redeploy, change-one redeploy (node1's environment changed) and teardown. See bench/README.md
for what each tool runs and why the work per container is the same, and stats.py for how the
ratios and verdicts are made. Results: bench/results/latest.{json,md}.

Modules: shape (the cluster per tool), tools (the three tools, checks, cleanup), shim (the
docker-call count), stats (paired ratios, verdicts), report (Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from checks import cleanup, docker, log
from report import markdown
from shape import HEALTH_RATE, IMAGE, health_interval
from shim import count_pass
from stats import rotation, summarize, targets
from tools import PARALLELISM, TOOL_CLASSES, Setup, cycle

BENCH = Path(__file__).resolve().parent
SOURCE_IMAGE = "my-db:latest"
ATTEMPTS = 3  # a cycle that fails (e.g. a node unhealthy under load) is retried, and recorded


def default_pyinfra(repo: Path) -> Path:
    """$CDBENCH_PYINFRA, else the checkout's .venv, else the pyinfra beside this Python."""
    if os.environ.get("CDBENCH_PYINFRA"):
        return Path(os.environ["CDBENCH_PYINFRA"])
    own = repo / ".venv" / "bin" / "pyinfra"
    return own if own.exists() else Path(sys.executable).parent / "pyinfra"


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                          text=True).stdout.strip()


def machine(setup: Setup) -> dict:
    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = docker("version", "--format", "{{.Client.Version}} {{.Server.Version}}",
                      check=False).stdout.split()
    pyinfra_version = subprocess.run([str(setup.pyinfra), "--version"], capture_output=True,
                                     text=True).stdout.strip()
    commit = os.environ.get("CDBENCH_COMMIT") or git(setup.repo, "rev-parse", "--short", "HEAD")
    dirty = bool(git(setup.repo, "status", "--porcelain", "clusterdeploy"))
    info = {
        "cpus": os.cpu_count(), "memory": mem, "kernel": platform.release(),
        "python": platform.python_version(),
        "docker_client": versions[0] if versions else "?",
        "docker_server": versions[1] if len(versions) > 1 else "?",
        "pyinfra": pyinfra_version, "commit": commit or "?", "clusterdeploy_dirty": dirty,
    }
    info["summary"] = (f"{info['cpus']} cores, {mem}, Linux {info['kernel']}, dockerd "
                       f"{info['docker_server']} (CLI {info['docker_client']}), {pyinfra_version}, "
                       f"Python {info['python']}, clusterdeploy at {info['commit']}"
                       f"{' + uncommitted changes' if dirty else ''}")
    return info


def one_cycle(setup: Setup, tool: str, n: int, rep: int, result: dict) -> dict[str, float]:
    """A tool's cycle, retried when it fails (each failure recorded)."""
    for attempt in range(1, ATTEMPTS + 1):
        cleanup(setup.work)
        try:
            return cycle(TOOL_CLASSES[tool](setup, n), n)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            log(f"N={n} rep {rep + 1} {tool} attempt {attempt} failed: {exc}")
            result["failures"].append({"n": n, "rep": rep + 1, "tool": tool,
                                       "attempt": attempt, "error": str(exc)[-2000:]})
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def measure(setup: Setup, sizes: list[int], reps: int, tools: list[str], count: bool,
            result: dict) -> None:
    for n in sizes:
        raw = result["raw"].setdefault(str(n), {})
        for rep in range(reps):
            order = rotation(tools, rep)
            result["order"].setdefault(str(n), []).append(order)
            result["load"][f"{n}/{rep + 1}"] = load_average()
            for tool in order:
                try:
                    times = one_cycle(setup, tool, n, rep, result)
                except (RuntimeError, subprocess.TimeoutExpired):
                    # recorded in result["failures"]; the other repetitions still count
                    log(f"N={n} rep {rep + 1}/{reps} {tool}: gave up after {ATTEMPTS} attempts")
                    continue
                for phase, seconds in times.items():
                    values = raw.setdefault(tool, {}).setdefault(phase, [])
                    values += [None] * (rep - len(values))  # a phase missing before stays so
                    values.append(round(seconds, 3))
                log(f"N={n} rep {rep + 1}/{reps} {tool}: " +
                    ", ".join(f"{p} {t:.2f}s" for p, t in times.items()))
        if "clusterdeploy" in tools and count:
            cleanup(setup.work)
            result["docker_calls"][str(n)] = count_pass(setup, n)
            log(f"N={n} docker calls: " + ", ".join(
                f"{p} {c['total']}" for p, c in result["docker_calls"][str(n)].items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5,30,100", help="comma-separated N (default 5,30,100)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument("--tools", default="clusterdeploy,compose,cli")
    parser.add_argument("--no-count", action="store_true", help="skip the docker-call count pass")
    parser.add_argument("--repo", default=str(BENCH.parent),
                        help="the checkout whose clusterdeploy is timed (default: this one)")
    parser.add_argument("--out", default=str(BENCH / "results" / "latest"),
                        help="results path without extension (default bench/results/latest)")
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    setup = Setup(repo=repo, pyinfra=default_pyinfra(repo), bench=BENCH,
                  compose=Path(os.environ.get("CDBENCH_COMPOSE", BENCH / ".venv-compose" / "bin"
                                              / "docker-compose")),
                  work=Path(os.environ.get("CDBENCH_WORK", "/tmp/cdbench-work")))
    sizes = [int(s) for s in args.sizes.split(",")]
    tools = args.tools.split(",")
    if docker("image", "inspect", SOURCE_IMAGE, check=False).returncode != 0:
        print(f"{SOURCE_IMAGE} is missing: build it first (scripts/deploy.sh)", file=sys.stderr)
        return 1
    if "compose" in tools and not setup.compose.exists():
        print(f"{setup.compose} is missing: see bench/README.md", file=sys.stderr)
        return 1

    result: dict = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "uptime_before": uptime(), "reps": args.reps, "sizes": sizes,
                    "tools": tools, "parallelism": PARALLELISM, "machine": machine(setup),
                    "raw": {}, "order": {}, "load": {}, "docker_calls": {}, "failures": [],
                    "health_interval_s": {str(n): health_interval(n) for n in sizes},
                    "health_rate": HEALTH_RATE}
    setup.work.mkdir(parents=True, exist_ok=True)
    cleanup(setup.work)
    docker("tag", SOURCE_IMAGE, IMAGE)
    result["image_id"] = docker("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    try:
        measure(setup, sizes, args.reps, tools, not args.no_count, result)
    finally:
        cleanup(setup.work)
        docker("rmi", IMAGE, check=False)
        shutil.rmtree(setup.work, ignore_errors=True)

    result["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["uptime_after"] = uptime()
    result["summary"] = summarize(result["raw"])
    result["targets"] = targets(result["summary"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""One cluster over three Docker hosts vs the same cluster on one host (issue 15, measured).

Run by hand as root, not part of the test suite, from the repository root with the virtualenv
that has clusterdeploy's dependencies:

    PYTHONPATH=. .venv/bin/python bench/multihost.py        # N=30, 1 + 3 repetitions, ~25 min
    PYTHONPATH=. .venv/bin/python bench/multihost.py --n 6 --reps 1 --out /tmp/try  # quick

Four real engines (tests/integration/multi_host.py, group "cdmhb": each its own network
namespace, dockerd and sshd on one host bridge): engine 1 carries the one-host variant (a spec
with one SSH host), engines 2-4 the three-host variant (three SSH hosts: a swarm and an overlay
network). Both with `images: ship`. Per repetition each variant runs a full cycle (cold deploy,
no-op redeploy, teardown) with the order of the variants swapped every repetition; the first
`--fresh` repetitions start from nothing (fresh engines without the image, no swarm). Every
docker call on every engine is logged by a `docker` wrapper first on the PATH sshd gives the
SSH sessions, and the engines' CPU time is read from cpuacct cgroups. See bench/README.md
("Several hosts"). Results: bench/results/multihost.{json,md}.

Modules: mh_engines (the engines, the wrapper, CPU), mh_variant (spec, timed runs, checks),
mh_calls (call logs, concurrency), mh_summary (on stats.py), mh_report (Markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checks import DOCKER, log
from mh_engines import REPO, engines, run, shim_overhead
from mh_report import HIGH_LOAD, markdown
from mh_summary import load_summary, placement, summarize
from mh_variant import PYINFRA, VARIANTS, Variant, cycle
from stats import rotation

RESULTS = Path(__file__).resolve().parent / "results"
SOURCE_IMAGE = "my-db:latest"
BASE_IMAGE = "cdmhb-my-db:base"  # pinned: other runs may re-tag my-db:latest meanwhile
ATTEMPTS = 3  # a cycle that fails (e.g. a starved swarm manager) is retried, and recorded


def docker_here(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([DOCKER, *args], check=check, timeout=600)


def build_here(spec_path: Path) -> list[str]:
    """Build the spec's images on this machine, untimed, as `ship` would (by content hash):
    the timed deploys then measure shipping, not this machine's build."""
    from clusterdeploy.clusterspec import load_spec
    from clusterdeploy.core.images import desired_images
    from clusterdeploy.docker import commands
    from clusterdeploy.docker.engine import Engine

    spec = load_spec(str(spec_path))
    present = Engine().image_ids()
    refs = []
    for image in desired_images(spec, present):
        if image.ref not in present:
            run(commands.build_image(image, tag_latest=False), timeout=600,
                env={**os.environ, **commands.BUILD_ENV})
        refs.append(image.ref)
    return refs


def machine() -> dict[str, Any]:
    versions = docker_here("version", "--format", "{{.Client.Version}} {{.Server.Version}}",
                           check=False).stdout.split()
    pyinfra_version = run([str(PYINFRA), "--version"], check=False).stdout.strip()
    commit = run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", str(REPO), "status", "--porcelain", "clusterdeploy"]).stdout.strip()
    kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal")), 0)
    info: dict[str, Any] = {
        "cpus": os.cpu_count(), "memory_gib": round(kb / 1024 / 1024), "kernel": platform.release(),
        "python": platform.python_version(), "pyinfra": pyinfra_version,
        "docker_client": versions[0] if versions else "?",
        "docker_server": versions[1] if len(versions) > 1 else "?",
        "commit": commit, "clusterdeploy_dirty": bool(dirty)}
    info["summary"] = (f"{info['cpus']} cores, {info['memory_gib']} GiB, Linux {info['kernel']}, "
                       f"dockerd {info['docker_server']} (CLI {info['docker_client']}), "
                       f"{pyinfra_version}, Python {info['python']}, clusterdeploy at {commit}"
                       f"{' + uncommitted changes' if dirty else ''}")
    return info


def uptime() -> str:
    return run(["uptime"]).stdout.strip()


def check_import() -> None:
    """pyinfra loads clusterdeploy from this checkout (cwd and PYTHONPATH), not another."""
    found = run([sys.executable, "-c", "import clusterdeploy; print(clusterdeploy.__file__)"],
                env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.strip()
    if not Path(found).resolve().is_relative_to(REPO):
        raise RuntimeError(f"clusterdeploy resolves to {found}, not this checkout {REPO}")


def one_cycle(variant: Variant, rep: int, fresh: bool, noops: int,
              result: dict[str, Any]) -> dict[str, Any]:
    """A variant's cycle, retried when it fails (each failure recorded): on 2 shared cores a
    starved swarm manager can time out an overlay attachment."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if fresh:
                variant.make_fresh()
            return cycle(variant, fresh, noops)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            log(f"rep {rep} {variant.name} attempt {attempt} failed: {str(exc)[-1500:]}")
            result["failures"].append({"rep": rep, "variant": variant.name, "attempt": attempt,
                                       "error": str(exc)[-3000:]})
            variant.remove_by_label()
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def measure(variants: dict[str, Variant], args: argparse.Namespace,
            result: dict[str, Any]) -> None:
    """The repetitions: the first `--fresh` from nothing, the variants' order rotated."""
    for rep in range(args.fresh + args.reps):
        fresh = rep < args.fresh
        order = rotation(list(VARIANTS), rep)
        record: dict[str, Any] = {"rep": rep + 1, "fresh": fresh, "order": order,
                                  "variants": {}}
        for name in order:
            runs = one_cycle(variants[name], rep + 1, fresh, args.noops, result)
            record["variants"][name] = runs
            cold = runs["cold_fresh" if fresh else "cold"]
            log(f"rep {rep + 1} {name}: cold {cold['wall']:.2f}s, noop "
                + "/".join(f"{r['wall']:.2f}" for r in runs["noop"])
                + f"s, teardown {runs['teardown']['wall']:.2f}s "
                f"(load {cold['load1_before']:.1f})")
        result["repetitions"].append(record)


def write_results(result: dict[str, Any], out: Path) -> None:
    result["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["uptime_end"] = uptime()
    result["summary"] = summarize(result["repetitions"])
    result["load"] = load_summary(result["repetitions"], HIGH_LOAD)
    result["placement_3host"] = placement(result["repetitions"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    out.with_suffix(".md").write_text(text)
    print(text)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30, help="nodes (default 30)")
    parser.add_argument("--reps", type=int, default=3,
                        help="repetitions with the image on the hosts (default 3)")
    parser.add_argument("--fresh", type=int, default=1,
                        help="repetitions from nothing, first (default 1)")
    parser.add_argument("--noops", type=int, default=1, help="no-op redeploys per cycle")
    parser.add_argument("--out", default=str(RESULTS / "multihost"),
                        help="results path without extension (default bench/results/multihost)")
    parser.add_argument("--work", default="/tmp/cdmhb-work", help="scratch directory")
    parser.add_argument("--keep", default=None,
                        help="keep every run's docker-call logs and pyinfra output here")
    return parser.parse_args()


def stop_on_term(signum: int, frame: object) -> None:
    """SIGTERM ends the measuring like Ctrl-C: the engines are torn down and the repetitions
    done so far are reported (a run that overruns its time slot still leaves results)."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, stop_on_term)
    if os.geteuid() != 0:
        print("needs root (network namespaces, dockerd, sshd)", file=sys.stderr)
        return 1
    if docker_here("image", "inspect", SOURCE_IMAGE, check=False).returncode != 0:
        print(f"{SOURCE_IMAGE} is missing: build it first (scripts/deploy.sh)", file=sys.stderr)
        return 1
    check_import()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "uptime_start": uptime(),
        "n": args.n, "reps": args.reps, "fresh": args.fresh, "noops": args.noops,
        "machine": machine(), "repetitions": [], "failures": []}
    docker_here("tag", SOURCE_IMAGE, BASE_IMAGE)
    built: list[str] = []
    status = 0
    try:
        with engines(work) as (group, cpu, shim, calls_dir):
            result["shim_overhead_ms"] = round(shim_overhead(shim, work) * 1000, 2)
            keep = Path(args.keep) if args.keep else None
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
            variants = {name: Variant(name, group, work, args.n, BASE_IMAGE, shim.parent,
                                      calls_dir, cpu, keep) for name in VARIANTS}
            built = sorted({ref for v in variants.values() for ref in build_here(v.spec)})
            result["image"] = built
            log(f"image {built} ready here; wrapper overhead {result['shim_overhead_ms']} ms/call")
            try:
                measure(variants, args, result)
            except (RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
                result["aborted"] = str(exc)[-3000:] or type(exc).__name__
                log(f"aborted: {result['aborted'][-500:]}; reporting what was measured")
                status = 1
    finally:
        for ref in [*built, BASE_IMAGE]:
            docker_here("rmi", ref, check=False)
        shutil.rmtree(work, ignore_errors=True)
    write_results(result, Path(args.out))
    return status


if __name__ == "__main__":
    sys.exit(main())

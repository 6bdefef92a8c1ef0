#!/usr/bin/env python3
"""One cluster over three Docker hosts vs the same cluster on one host (issue 15, measured).

Run by hand as root, not part of the test suite, from the repository root with the virtualenv
that has clusterdeploy's dependencies:

    .venv/bin/python bench/multihost.py                     # N=30, 1 + 5 repetitions, ~15 min
    .venv/bin/python bench/multihost.py --n 6 --reps 1 --out /tmp/try    # a quick check

Four real engines (tests/integration/multi_host.py, group "cdmhb": each its own network
namespace, dockerd and sshd on one host bridge): engine 1 carries the one-host variant (a spec
with one SSH host), engines 2-4 the three-host variant (three SSH hosts: a swarm and an overlay
network). Both with `images: ship`. Per repetition each variant runs a full cycle (cold deploy,
no-op redeploy, teardown) with the order of the variants swapped every repetition; the first
`--fresh` repetitions start from nothing (fresh engines without the image, no swarm). Every
docker call on every engine is logged by a `docker` wrapper first on the PATH sshd gives the
SSH sessions, and the engines' CPU time is read from cpuacct cgroups. See bench/README.md
("Several hosts"). Results: bench/results/multihost.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from tests.integration.multi_host import DockerHostGroup  # noqa: E402
from tests.integration.remote_host import RemoteDockerHost  # noqa: E402


def _load_run_module() -> ModuleType:
    """bench/run.py (the single-engine benchmark), for the cluster's shape."""
    spec = importlib.util.spec_from_file_location("cdbench_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cdbench = _load_run_module()

PYINFRA = Path(sys.executable).parent / "pyinfra"
DOCKER = shutil.which("docker", path="/usr/local/bin:/usr/bin:/bin") or "/usr/bin/docker"
RESULTS = BENCH / "results"

# The engines: our own group name, subnet and engine slots (the tests use cdmh, cdmhk, cdsw).
GROUP = "cdmhb"
GROUP_SUBNET = "10.250.6.0/24"
FIRST_SLOT = 5
ENGINES = 4
VARIANTS: dict[str, list[int]] = {"1host": [1], "3host": [2, 3, 4]}

CLUSTER = "cdmhb"
CLUSTER_LABEL = "io.clusterdeploy.cluster"
NETWORK = "cdmhbNet"
CLUSTER_SUBNET = "172.31.6.0/24"
PORT_BASE = 47600
SOURCE_IMAGE = "my-db:latest"
BASE_IMAGE = "cdmhb-my-db:base"  # pinned: other runs may re-tag my-db:latest meanwhile
IMAGE_TAG = "cdmhb-my-db"  # the spec's image: `FROM BASE_IMAGE`, shipped by content hash

COMMAND_TIMEOUT = 900
ATTEMPTS = 3
CPUACCT = Path("/sys/fs/cgroup/cpuacct")
SSHD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HIGH_LOAD = 4.0  # 1-minute load above which a run counts as loaded (2 cores)

SHIM = """#!/bin/bash
# docker, logged by bench/multihost.py: start, end, exit status and argv of each call, one
# line a call, appended to $CDMHB_DOCKER_LOG (bash's EPOCHREALTIME: no extra process).
s=$EPOCHREALTIME
{docker} "$@"
rc=$?
printf -v argv ' %q' "$@"
printf '%s %s %s%s\\n' "$s" "$EPOCHREALTIME" "$rc" "${{argv:0:300}}" \\
    >> "${{CDMHB_DOCKER_LOG:-/dev/null}}"
exit $rc
"""
GROUPED = frozenset({"network", "image", "container", "swarm", "system", "volume", "node",
                     "service"})


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed: {(result.stderr or result.stdout)[-2000:]}")
    return result


def docker_here(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([DOCKER, *args], check=check, timeout=600)


# ---------------------------------------------------------------------------------------------
# The spec


def spec_hosts(group: DockerHostGroup, variant: str) -> list[dict[str, Any]]:
    entries = group.spec_hosts("h", images="ship")
    return [entries[i - 1] for i in VARIANTS[variant]]


def write_spec(path: Path, n: int, hosts: list[dict[str, Any]], image_dir: Path) -> None:
    """bench/run.py's cluster (N nodes of my-db, health check, files) with clusterdeploy's own
    image entry, so that `images: ship` ships it by content hash, and the spec's hosts."""
    spec = {
        "name": CLUSTER,
        "hosts": hosts,
        "network": {"name": NETWORK, "subnet": CLUSTER_SUBNET},
        "images": {"node": {"tag": IMAGE_TAG, "dockerfile": str(image_dir / "Dockerfile"),
                            "context": str(image_dir)}},
        "build": {"image": "node", "programs": []},
        "defaults": cdbench.spec_defaults(n, IMAGE_TAG, cdbench.copy_templates(path.parent)),
        "nodes": [{"name": f"node{i}", "hostname": f"node{i}",
                   "container_name": f"{CLUSTER}_node{i}",
                   "ports": [f"127.0.0.1:{PORT_BASE + i}:40404"]} for i in range(1, n + 1)],
        "tester": {"enabled": False},
    }
    path.write_text(json.dumps(spec, indent=1))  # JSON is YAML


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


# ---------------------------------------------------------------------------------------------
# Instruments: the docker wrapper, CPU time of the engines, the machine, the client


def install_shim(shim_dir: Path) -> Path:
    shim_dir.mkdir(parents=True, exist_ok=True)
    script = shim_dir / "docker"
    script.write_text(SHIM.format(docker=DOCKER))
    script.chmod(0o755)
    return script


def shim_sshd(group: DockerHostGroup, i: int, shim_dir: Path, call_log: Path) -> None:
    """Give host i's SSH sessions the wrapper first on PATH and its log file (sshd's SetEnv:
    only the first SetEnv line counts, so the harness's line gets the variables), restart
    sshd and check that a session finds the wrapper."""
    host = group.host(i)
    line = f"SetEnv DOCKER_HOST={host.docker_host}"
    text = host.sshd_config.read_text()
    if line not in text:
        raise RuntimeError(f"{host.sshd_config} has no line {line!r}")
    text = text.replace(line, f"{line} PATH={shim_dir}:{SSHD_PATH} CDMHB_DOCKER_LOG={call_log}")
    if "LogLevel" not in text:  # VERBOSE: a line per connection and per session (command)
        text += "LogLevel VERBOSE\n"
    host.sshd_config.write_text(text)
    host.stop_sshd()
    host.start_sshd()
    found = group.ssh(i, "command -v docker").stdout.strip()
    if found != str(shim_dir / "docker"):
        raise RuntimeError(f"host {i}: docker is {found!r} in an SSH session, not the wrapper")


def _pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


class EngineCpu:
    """CPU time of one engine, from cpuacct cgroups under the engine's cgroup parent (where
    its containers already go): `daemon` (dockerd and everything it starts: containerd, the
    shims, runc, docker-proxy), `sshd` (the SSH sessions: shells, the docker CLI, the wrapper)
    and `containers` (the rest: the services and their health checks). The harness removes
    these cgroups with the engine's (`<name>-engine`)."""

    def __init__(self, host: RemoteDockerHost) -> None:
        self.base = CPUACCT / f"{host.name}-engine"
        self.daemon = self.base / "daemon"
        self.sshd = self.base / "sshd"
        self.available = (CPUACCT / "cpuacct.usage").exists()
        if not self.available:
            return
        dockerd = _pid(host.dockerd_pidfile)
        self._move(self.daemon, [dockerd, *_children(dockerd)])
        self._move(self.sshd, [_pid(host.sshd_pidfile)])

    @staticmethod
    def _move(cgroup: Path, pids: list[int]) -> None:
        cgroup.mkdir(parents=True, exist_ok=True)
        for pid in pids:
            (cgroup / "cgroup.procs").write_text(f"{pid}\n")

    @staticmethod
    def _usage(cgroup: Path) -> float:
        return int((cgroup / "cpuacct.usage").read_text()) / 1e9

    def read(self) -> dict[str, float] | None:
        if not self.available:
            return None
        total, daemon, sshd = (self._usage(c) for c in (self.base, self.daemon, self.sshd))
        return {"daemon": daemon, "sshd": sshd, "containers": total - daemon - sshd}


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


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


def calls_summary(calls: list[Call], began: float) -> dict[str, Any]:
    if not calls:
        return {"total": 0, "by_command": {}, "busy": 0.0, "first": None, "last": None,
                "failed": 0}
    return {
        "total": len(calls),
        "by_command": dict(sorted(Counter(c.kind for c in calls).items())),
        "busy": round(union([(c.start, c.end) for c in calls]), 3),
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
    active = union([(c.start, c.end) for c in calls])
    return {"wall": round(wall, 3), "lead": round(lead, 3), "active": round(active, 3),
            "gaps": round(wall - lead - tail - active, 3), "tail": round(tail, 3)}


def concurrency(hosts: dict[str, list[Call]], wall: float) -> dict[str, float] | None:
    """Did the hosts converge at the same time? Busy time of a host: when at least one docker
    call ran there. Against the wall time: `outside` (no docker call on any host: start-up,
    planning, the swarm's and pyinfra's own steps), and the wall time the run would have taken
    with the slowest host alone (`outside + max busy`) or the hosts one after the other
    (`outside + sum of busy`). `position` is 0 at the slowest host, 1 at the sum."""
    if len(hosts) < 2:
        return None
    busy = [union([(c.start, c.end) for c in calls]) for calls in hosts.values()]
    anywhere = union([(c.start, c.end) for calls in hosts.values() for c in calls])
    outside = wall - anywhere
    slowest, serial = outside + max(busy), outside + sum(busy)
    return {"wall": round(wall, 3), "outside": round(outside, 3),
            "busy_max": round(max(busy), 3), "busy_sum": round(sum(busy), 3),
            "busy_anywhere": round(anywhere, 3), "slowest_host": round(slowest, 3),
            "sum_of_hosts": round(serial, 3),
            "position": round((wall - slowest) / (serial - slowest), 3)
            if serial > slowest else 0.0}


def shim_overhead(shim: Path, work: Path, rounds: int = 15) -> float:
    """Median extra seconds per call that the wrapper adds (`docker --version`, alternated)."""
    env = {**os.environ, "CDMHB_DOCKER_LOG": str(work / "overhead.log")}
    extra = []
    for _ in range(rounds):
        times = []
        for argv in ([DOCKER, "--version"], [str(shim), "--version"]):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, check=True)
            times.append(time.perf_counter() - start)
        extra.append(times[1] - times[0])
    (work / "overhead.log").unlink(missing_ok=True)
    return statistics.median(extra)


class SshdLog:
    """SSH connections and sessions (one per command) of a host's sshd, from its log."""

    def __init__(self, host: RemoteDockerHost) -> None:
        self.path = host.sshd_log
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self) -> dict[str, int]:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            text = f.read().decode(errors="replace")
        return {"connections": text.count("Accepted publickey"),
                "commands": text.count("Starting session: command")}


# ---------------------------------------------------------------------------------------------
# One variant: a spec, a state directory, its engines; timed pyinfra runs with their records


class Variant:
    def __init__(self, name: str, group: DockerHostGroup, work: Path, n: int, image_dir: Path,
                 shim_dir: Path, calls_dir: Path, cpu: dict[int, EngineCpu],
                 keep: Path | None) -> None:
        self.name = name
        self.group = group
        self.engines = VARIANTS[name]
        self.n = n
        self.root = work / name
        self.root.mkdir(parents=True, exist_ok=True)
        self.spec = self.root / "cluster.json.yml"
        self.state = self.root / "state"
        self.shim_dir = shim_dir
        self.calls_dir = calls_dir
        self.cpu = cpu
        self.sshd = {i: SshdLog(group.host(i)) for i in self.engines}
        self.keep = keep
        self.last_output = ""
        write_spec(self.spec, n, spec_hosts(group, name), image_dir)

    def call_log(self, label: str) -> Path:
        return self.calls_dir / f"{label}.log"

    def pyinfra(self, script: str, *data: str, expect: str | None = None) -> dict[str, Any]:
        """One timed pyinfra run, with what every instrument saw during it."""
        labels = [f"h{i}" for i in self.engines]
        for label in [*labels, "here"]:
            self.call_log(label).write_text("")
        args = [str(PYINFRA), "-y", "inventory.py", script, "--data", f"state_dir={self.state}"]
        for item in data:
            args += ["--data", item]
        env = {**os.environ, "CLUSTER_SPEC": str(self.spec), "PYTHONPATH": str(REPO),
               "PATH": f"{self.shim_dir}:{os.environ['PATH']}",
               "CDMHB_DOCKER_LOG": str(self.call_log("here"))}
        load_before = os.getloadavg()[0]
        jiffies_before = machine_jiffies()
        cpu_before = {i: self.cpu[i].read() for i in self.engines}
        for i in self.engines:
            self.sshd[i].mark()
        client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.time()
        start = time.perf_counter()
        result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT)
        wall = time.perf_counter() - start
        client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_after = {i: self.cpu[i].read() for i in self.engines}
        jiffies_after = machine_jiffies()
        self.last_output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: pyinfra {script} failed:\n{self.last_output[-4000:]}")
        if expect and expect not in self.last_output:
            raise RuntimeError(f"{self.name}: pyinfra {script}: expected {expect!r} in:\n"
                               f"{self.last_output[-3000:]}")
        calls = {label: read_calls(self.call_log(label)) for label in [*labels, "here"]}
        engine_calls = {k: v for k, v in calls.items() if k != "here"}
        if self.keep is not None:
            keep = self.keep / f"{len(list(self.keep.iterdir())) + 1:03d}-{self.name}-{script}"
            keep.mkdir(parents=True)
            for label in [*labels, "here"]:
                shutil.copy(self.call_log(label), keep / f"{label}.log")
            (keep / "output.txt").write_text(self.last_output)
        busy = jiffies_after[0] - jiffies_before[0]
        total = jiffies_after[1] - jiffies_before[1]
        engines_cpu: dict[str, dict[str, float]] = {}
        for i in self.engines:
            before, after = cpu_before[i], cpu_after[i]
            if before is not None and after is not None:
                engines_cpu[f"h{i}"] = {k: round(after[k] - before[k], 3) for k in after}
        return {
            "wall": round(wall, 3),
            "load1_before": round(load_before, 2),
            "load1_after": round(os.getloadavg()[0], 2),
            "machine_busy_cores": round(busy / total * (os.cpu_count() or 1), 2) if total else None,
            "client_cpu": round(client_after.ru_utime + client_after.ru_stime
                                - client_before.ru_utime - client_before.ru_stime, 3),
            "engine_cpu": engines_cpu,
            "calls": {label: calls_summary(c, began) for label, c in calls.items()},
            "timeline": timeline(engine_calls, began, wall),
            "concurrency": concurrency(engine_calls, wall),
            "ssh": {f"h{i}": self.sshd[i].since_mark() for i in self.engines},
        }

    # -- state checks (untimed, through each engine's socket, not SSH) --------------------------

    def containers(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for i in self.engines:
            ids = self.group.docker(i, "ps", "-aq", "--filter",
                                    f"label={CLUSTER_LABEL}={CLUSTER}").stdout.split()
            if not ids:
                continue
            for c in json.loads(self.group.docker(i, "inspect", *ids).stdout):
                found[c["Name"].lstrip("/")] = {
                    "id": c["Id"], "host": f"h{i}", "status": c["State"]["Status"],
                    "health": (c["State"].get("Health") or {}).get("Status")}
        return found

    def check_up(self) -> dict[str, Any]:
        state = self.containers()
        bad = {k: (v["status"], v["health"]) for k, v in state.items()
               if (v["status"], v["health"]) != ("running", "healthy")}
        if len(state) != self.n or bad:
            raise RuntimeError(f"{self.name}: expected {self.n} running healthy containers, "
                               f"got {len(state)}, not healthy: {dict(list(bad.items())[:5])}")
        return state

    def check_gone(self) -> None:
        left = self.containers()
        if left:
            raise RuntimeError(f"{self.name}: teardown left {sorted(left)[:5]}")

    # -- between cycles ------------------------------------------------------------------------

    def remove_by_label(self) -> None:
        """After a failed cycle: the cluster's containers and networks, by label only."""
        for i in self.engines:
            ids = self.group.docker(i, "ps", "-aq", "--filter",
                                    f"label={CLUSTER_LABEL}={CLUSTER}", check=False).stdout.split()
            if ids:
                self.group.docker(i, "rm", "-f", "-v", *ids, check=False, timeout=300)
            nets = self.group.docker(i, "network", "ls", "-q", "--filter",
                                     f"label={CLUSTER_LABEL}={CLUSTER}",
                                     check=False).stdout.split()
            if nets:
                self.group.docker(i, "network", "rm", *nets, check=False)
        shutil.rmtree(self.state, ignore_errors=True)

    def make_fresh(self) -> None:
        """As from nothing: no swarm, no image on the engines, no state directory."""
        self.remove_by_label()
        for i in self.engines:
            state = self.group.swarm_state(i)
            if state.get("LocalNodeState") != "inactive":
                self.group.reset_swarm()  # every engine leaves (none holds a container now)
                break
        for i in self.engines:
            images = self.group.docker(i, "images", "-q").stdout.split()
            if images:
                self.group.docker(i, "rmi", "-f", *sorted(set(images)), timeout=300)


def cycle(variant: Variant, fresh: bool, noops: int) -> dict[str, Any]:
    """Cold deploy, `noops` no-op redeploys, teardown; state checked between (untimed)."""
    runs: dict[str, Any] = {}
    runs["cold_fresh" if fresh else "cold"] = variant.pyinfra("deploy.py",
                                                             expect="plan for cluster")
    before = variant.check_up()
    runs["placement"] = dict(Counter(c["host"] for c in before.values()))
    runs["noop"] = []
    for _ in range(noops):
        runs["noop"].append(variant.pyinfra("deploy.py", expect="is up to date"))
        after = variant.check_up()
        if {k: v["id"] for k, v in after.items()} != {k: v["id"] for k, v in before.items()}:
            raise RuntimeError(f"{variant.name}: the no-op redeploy replaced containers")
    runs["teardown"] = variant.pyinfra("teardown.py")
    variant.check_gone()
    return runs


# ---------------------------------------------------------------------------------------------
# Summary and report

PHASES = ("cold_fresh", "cold", "noop", "teardown")
PHASE_TITLES = {"cold_fresh": "cold, from nothing", "cold": "cold, image on the hosts",
                "noop": "no-op redeploy", "teardown": "teardown"}


def spread(values: list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values)}


def phase_runs(reps: list[dict[str, Any]], variant: str, phase: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rep in reps:
        found = rep["variants"].get(variant, {}).get(phase)
        if isinstance(found, list):
            out += found
        elif found is not None:
            out.append(found)
    return out


def paired_ratios(reps: list[dict[str, Any]], phase: str) -> list[float]:
    ratios = []
    for rep in reps:
        one, three = (phase_runs([rep], v, phase) for v in ("1host", "3host"))
        if one and three:
            a = statistics.median(r["wall"] for r in three)
            b = statistics.median(r["wall"] for r in one)
            ratios.append(round(a / b, 3))
    return ratios


def summarize(reps: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for phase in PHASES:
        row: dict[str, Any] = {"ratio_3host_1host": spread(paired_ratios(reps, phase))}
        for variant in VARIANTS:
            runs = phase_runs(reps, variant, phase)
            if not runs:
                continue
            hosts = sorted({h for r in runs for h in r["calls"]})
            row[variant] = {
                "wall": spread([r["wall"] for r in runs]),
                "load1": spread([r["load1_before"] for r in runs]),
                "machine_busy_cores": spread([r["machine_busy_cores"] for r in runs
                                              if r["machine_busy_cores"] is not None]),
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
                row[variant]["concurrency"] = {
                    key: spread([c[key] for c in conc])
                    for key in ("wall", "outside", "busy_max", "busy_sum", "busy_anywhere",
                                "slowest_host", "sum_of_hosts", "position")}
        summary[phase] = row
    return summary


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
        f"end: `{result['uptime_end']}`. N = {result['n']} nodes; {result['fresh']} "
        f"repetition(s) from nothing, then {result['reps']} with the image on the hosts; "
        f"{result['noops']} no-op(s) per cycle; the order of the variants swapped every "
        "repetition. Made by `bench/multihost.py` (see bench/README.md, \"Several hosts\").",
        "",
        f"Load: the 1-minute load before the timed runs was {fmt_spread(result['load']['load1'])}"
        f" (median, min-max); {loaded['count']} of {loaded['of']} runs started above "
        f"{HIGH_LOAD:g}. Other sessions' tests and benchmarks shared the {m['cpus']} cores.",
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
              "(median over the runs; the counts do not vary).", "",
              "| phase | variant | host | calls | by command |", "|---|---|---|---|---|"]
    for phase in PHASES:
        for variant in VARIANTS:
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
        for variant in VARIANTS:
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
        for variant in VARIANTS:
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
        for variant in VARIANTS:
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
              f"Failed attempts (retried): {len(result['failures'])}."]
    return "\n".join(lines) + "\n"


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


# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def engines(work: Path) -> Iterator[tuple[DockerHostGroup, dict[int, EngineCpu], Path, Path]]:
    """The group, instrumented; always torn down, and nothing left."""
    shim_dir, calls_dir = work / "shim", work / "calls"
    shim = install_shim(shim_dir)
    calls_dir.mkdir(parents=True, exist_ok=True)
    group = DockerHostGroup(name=GROUP, count=ENGINES, subnet=GROUP_SUBNET,
                            first_slot=FIRST_SLOT)
    try:
        group.up()
        log(f"{ENGINES} engines up in {group.timings['start']:.1f}s")
        for i in range(1, ENGINES + 1):
            shim_sshd(group, i, shim_dir, calls_dir / f"h{i}.log")
        cpu = {i: EngineCpu(group.host(i)) for i in range(1, ENGINES + 1)}
        yield group, cpu, shim, calls_dir
    finally:
        group.down()
        left = DockerHostGroup.leftovers(GROUP)
        if left:
            log(f"leftovers after down(): {left}; cleaning")
            DockerHostGroup.cleanup_leftovers(GROUP)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30, help="nodes (default 30)")
    parser.add_argument("--reps", type=int, default=5,
                        help="repetitions with the image on the hosts (default 5)")
    parser.add_argument("--fresh", type=int, default=1,
                        help="repetitions from nothing, first (default 1)")
    parser.add_argument("--noops", type=int, default=1, help="no-op redeploys per cycle")
    parser.add_argument("--out", default=str(RESULTS / "multihost"),
                        help="results path without extension (default bench/results/multihost)")
    parser.add_argument("--work", default="/tmp/cdmhb-work", help="scratch directory")
    parser.add_argument("--keep", default=None,
                        help="keep every run's docker-call logs and pyinfra output here")
    args = parser.parse_args()
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
    image_dir = work / "image"
    image_dir.mkdir()
    (image_dir / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\n")
    built: list[str] = []
    try:
        with engines(work) as (group, cpu, shim, calls_dir):
            result["shim_overhead_ms"] = round(shim_overhead(shim, work) * 1000, 2)
            keep = Path(args.keep) if args.keep else None
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
            variants = {name: Variant(name, group, work, args.n, image_dir, shim.parent,
                                      calls_dir, cpu, keep) for name in VARIANTS}
            built = build_here(variants["1host"].spec)
            result["image"] = built
            log(f"image {built} ready here; wrapper overhead {result['shim_overhead_ms']} ms/call")
            for rep in range(args.fresh + args.reps):
                fresh = rep < args.fresh
                order = list(VARIANTS) if rep % 2 == 0 else list(reversed(VARIANTS))
                record: dict[str, Any] = {"rep": rep + 1, "fresh": fresh, "order": order,
                                          "variants": {}}
                for name in order:
                    variant = variants[name]
                    for attempt in range(1, ATTEMPTS + 1):
                        try:
                            if fresh:
                                variant.make_fresh()
                            record["variants"][name] = cycle(variant, fresh, args.noops)
                            break
                        except (RuntimeError, subprocess.TimeoutExpired) as exc:
                            log(f"rep {rep + 1} {name} attempt {attempt} failed: {exc}")
                            result["failures"].append({"rep": rep + 1, "variant": name,
                                                       "attempt": attempt,
                                                       "error": str(exc)[-3000:]})
                            variant.remove_by_label()
                            if attempt == ATTEMPTS:
                                raise
                    runs = record["variants"][name]
                    cold = runs["cold_fresh" if fresh else "cold"]
                    log(f"rep {rep + 1} {name}: cold {cold['wall']:.2f}s, noop "
                        + "/".join(f"{r['wall']:.2f}" for r in runs["noop"])
                        + f"s, teardown {runs['teardown']['wall']:.2f}s "
                        f"(load {cold['load1_before']:.1f})")
                result["repetitions"].append(record)
    finally:
        for ref in [*built, BASE_IMAGE]:
            docker_here("rmi", ref, check=False)
        shutil.rmtree(work, ignore_errors=True)
    result["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["uptime_end"] = uptime()
    result["summary"] = summarize(result["repetitions"])
    loads = [r["load1_before"] for phase in PHASES for v in VARIANTS
             for r in phase_runs(result["repetitions"], v, phase)]
    result["load"] = {"load1": spread(loads), "runs_above_threshold": {
        "threshold": HIGH_LOAD, "count": sum(1 for x in loads if x > HIGH_LOAD), "of": len(loads)}}
    placements = [rep["variants"]["3host"]["placement"] for rep in result["repetitions"]
                  if "3host" in rep["variants"]]
    result["placement_3host"] = "/".join(str(v) for _, v in sorted(placements[-1].items())) \
        if placements else "-"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    out.with_suffix(".md").write_text(text)
    print(text)
    if loaded := result["load"]["runs_above_threshold"]["count"]:
        share = loaded / max(1, result["load"]["runs_above_threshold"]["of"])
        if share > 0.5:
            log(f"{loaded} runs started at a 1-minute load above {HIGH_LOAD:g}: rerun when "
                "the machine is quieter")
    return 0


if __name__ == "__main__":
    sys.exit(main())

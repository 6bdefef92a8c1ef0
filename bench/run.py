#!/usr/bin/env python3
"""Deploy-speed benchmark: clusterdeploy vs docker-compose 1.29.2 vs the raw docker CLI.

Plain Python (stdlib only), run by hand from anywhere; not part of the test suite:

    python3 bench/run.py                       # N = 5, 30, 100; 3 repetitions; all three tools
    python3 bench/run.py --sizes 5 --reps 1    # a quick check

For every N it generates one cluster shape and measures, per tool and repetition,
cold deploy (nothing exists -> every node running and healthy), no-op redeploy, change-one
redeploy (node1's environment changed) and teardown. See bench/README.md for what each tool
runs and why the work per container is the same. Results: bench/results/latest.{json,md}.

Everything it creates is found by label (io.clusterdeploy.cluster=cdbench, the compose
project cdbenchcompose, io.cdbench.tool=cli) or lives in WORK, and is removed at the start and
the end of the run. Nothing else is touched.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYINFRA = REPO / ".venv" / "bin" / "pyinfra"
COMPOSE = Path(os.environ.get("CDBENCH_COMPOSE",
                              BENCH / ".venv-compose" / "bin" / "docker-compose"))
DOCKER = shutil.which("docker", path="/usr/local/bin:/usr/bin:/bin") or "docker"
WORK = Path(os.environ.get("CDBENCH_WORK", "/tmp/cdbench-work"))
RESULTS = BENCH / "results"

SOURCE_IMAGE = "my-db:latest"
IMAGE = "cdbench-my-db:bench"  # pinned tag: others may re-tag my-db:latest during the run
PARALLELISM = 8
ATTEMPTS = 3  # a cycle that fails (e.g. a node unhealthy under load) is retried, and recorded
COMMAND_TIMEOUT = 600  # a hung tool fails the cycle (and is retried) instead of the run
POLL = 0.25  # same as clusterdeploy's health poll
HEALTH_TIMEOUT = 300.0

CD_CLUSTER = "cdbench"
COMPOSE_PROJECT = "cdbenchcompose"
CLI_LABEL = "io.cdbench.tool"
CLUSTER_LABEL = "io.clusterdeploy.cluster"

# Per tool: container prefix, network, subnet /24 (third octet), host port base.
TOOLS = {
    "clusterdeploy": {"prefix": "cdbench", "network": "cdbench_net", "third": 0, "port": 47000},
    "compose": {"prefix": "cdbenchcompose", "network": "cdbenchcompose_net", "third": 1,
                "port": 47200},
    "cli": {"prefix": "cdbenchcli", "network": "cdbenchcli_net", "third": 2, "port": 47400},
}
PHASES = ("cold", "noop", "change1", "teardown")

HEALTH_CMD = "curl -fsS -o /dev/null http://127.0.0.1:40404/ping"
HEALTH = {"timeout": "3s", "retries": 3, "start_period": "30s"}
# Every health check is a `docker exec` (a runc exec: roughly 50 ms of CPU here). cluster.yml's
# 1 s interval at N=100 is 100 execs a second: on 2 cores that alone saturates the machine (load
# average ~190, checks time out, nodes turn unhealthy); 4 s still leaves it ~95 % busy. So the
# interval grows with N to keep at most HEALTH_RATE checks a second: 1 s at N=5, 3 s at N=30,
# 10 s at N=100. The same for every tool; it adds up to one interval to every cold deploy.
HEALTH_RATE = 10


def health_interval(n: int) -> int:
    return max(1, math.ceil(n / HEALTH_RATE))


def healthcheck(n: int) -> dict:
    return {"test": ["CMD-SHELL", HEALTH_CMD], "interval": f"{health_interval(n)}s", **HEALTH}
CAPS = ["NET_ADMIN", "NET_RAW", "SYS_PTRACE"]
STOP_GRACE = 10
TEMPLATES = REPO / "docker-test" / "templates"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def docker(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env,
                            timeout=COMMAND_TIMEOUT)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {shlex.join(args)} failed: {result.stderr.strip()}")
    return result


# ---------------------------------------------------------------------------------------------
# The cluster shape, once per N, rendered for each tool


def node_env(i: int, changed: bool) -> dict[str, str]:
    return {"CFG_PATH": "/root/Cluster.config",
            "BENCH_VERSION": "2" if changed and i == 1 else "1"}


def address(tool: str, i: int) -> str:
    return f"172.31.{TOOLS[tool]['third']}.{i + 1}"  # .1 is the gateway, node i is .(i+1)


def subnet(tool: str) -> str:
    return f"172.31.{TOOLS[tool]['third']}.0/24"


def container_name(tool: str, i: int) -> str:
    return f"{TOOLS[tool]['prefix']}_node{i}"


def host_port(tool: str, i: int) -> int:
    return TOOLS[tool]["port"] + i


def write_spec(path: Path, n: int, changed: bool) -> None:
    """clusterdeploy's spec: cluster.yml's shape, N nodes, no image builds, no tester."""
    spec = {
        "name": CD_CLUSTER,
        "network": {"name": TOOLS["clusterdeploy"]["network"], "subnet": subnet("clusterdeploy")},
        "images": {},
        "build": {"programs": []},
        "defaults": {
            "image": IMAGE,
            "user": "root",
            "environment": node_env(0, False),
            "service_ports": {"http": 40404},
            "command": ["/clusterdeploy/setup.sh"],
            "stop_grace_period": f"{STOP_GRACE}s",
            "privileged": False,
            "init": True,
            "cap_add": CAPS,
            "healthcheck": healthcheck(n),
            "files": [
                {"template": str(TEMPLATES / "Cluster.config.j2"), "path": "Cluster.config",
                 "mode": "0644"},
                {"template": str(TEMPLATES / "setup.sh.j2"), "path": "setup.sh", "mode": "0755"},
            ],
        },
        "nodes": [
            {"name": f"node{i}", "hostname": f"node{i}",
             "container_name": container_name("clusterdeploy", i),
             "ports": [f"127.0.0.1:{host_port('clusterdeploy', i)}:40404"],
             **({"environment": node_env(i, True)} if changed and i == 1 else {})}
            for i in range(1, n + 1)
        ],
        "tester": {"enabled": False},
    }
    path.write_text(json.dumps(spec, indent=1))  # JSON is YAML


def render_files(tool: str, n: int, root: Path) -> None:
    """What clusterdeploy renders from docker-test/templates, for the compose and CLI runs."""
    replicas = "".join(f"node{j} {address(tool, j)} 40404\n" for j in range(1, n + 1))
    for i in range(1, n + 1):
        d = root / container_name(tool, i)
        d.mkdir(parents=True, exist_ok=True)
        (d / "Cluster.config").write_text(
            f"# Cluster.config of node{i}, rendered by cdbench for {tool}.\n"
            f"# The replica table: one replica a line, `<hostname> <address> <port>`.\n"
            + replicas)
        setup = d / "setup.sh"
        setup.write_text(
            "#!/bin/sh\n"
            f"# setup.sh of node{i} (node), rendered by cdbench for {tool}.\n"
            "set -eu\n"
            f"export SELF_IP={address(tool, i)}\n"
            f"export NODE_NAME=node{i}\n"
            'files_dir=$(dirname "$0")\n'
            'cfg="${CFG_PATH:-/root/Cluster.config}"\n'
            'if [ "$cfg" != "$files_dir/Cluster.config" ]; then\n'
            '  mkdir -p "$(dirname "$cfg")"\n'
            '  ln -sfn "$files_dir/Cluster.config" "$cfg"\n'
            "fi\n"
            "cd /root\n"
            'exec /root/service/server "$@"\n')
        setup.chmod(0o755)


def write_compose(path: Path, n: int, changed: bool, files_root: Path) -> None:
    net = "benchnet"
    services = {}
    for i in range(1, n + 1):
        services[f"node{i}"] = {
            "image": IMAGE,
            "container_name": container_name("compose", i),
            "hostname": f"node{i}",
            "user": "root",
            "init": True,
            "cap_add": CAPS,
            "environment": node_env(i, changed),
            "command": ["/clusterdeploy/setup.sh"],
            "volumes": [f"{files_root / container_name('compose', i)}:/clusterdeploy:ro"],
            "ports": [f"127.0.0.1:{host_port('compose', i)}:40404"],
            "stop_grace_period": f"{STOP_GRACE}s",
            "healthcheck": healthcheck(n),
            "networks": {net: {"ipv4_address": address("compose", i), "aliases": [f"node{i}"]}},
        }
    document = {
        "version": "2.4",
        "services": services,
        "networks": {net: {"name": TOOLS["compose"]["network"], "driver": "bridge",
                           "ipam": {"config": [{"subnet": subnet("compose"),
                                                "gateway": address("compose", 0)}]}}},
    }
    path.write_text(json.dumps(document, indent=1))


def cli_create_args(n: int, i: int, changed: bool, files_root: Path) -> list[str]:
    """The same `docker create` clusterdeploy issues (commands.create_container), by hand."""
    name = container_name("cli", i)
    args = ["create", "--name", name, "--hostname", f"node{i}",
            "--network", TOOLS["cli"]["network"], "--ip", address("cli", i),
            "--network-alias", f"node{i}", "--label", f"{CLI_LABEL}=cli",
            "--label", f"io.cdbench.member=node{i}", "--stop-timeout", str(STOP_GRACE),
            "--volume", f"{files_root / name}:/clusterdeploy:ro", "--user", "root", "--init"]
    for cap in CAPS:
        args += ["--cap-add", cap]
    for key, value in sorted(node_env(i, changed).items()):
        args += ["--env", f"{key}={value}"]
    args += ["--publish", f"127.0.0.1:{host_port('cli', i)}:40404/tcp",
             "--health-cmd", HEALTH_CMD, "--health-interval", f"{health_interval(n)}s",
             "--health-timeout", "3s", "--health-retries", "3",
             "--health-start-period", "30s", IMAGE, "/clusterdeploy/setup.sh"]
    return args


# ---------------------------------------------------------------------------------------------
# Waiting and checking (also used for compose and the floor, so all three wait the same way)

STATUS_FORMAT = "{{.Name}}\t{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}{{end}}"


def wait_healthy(names: list[str], timeout: float = HEALTH_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = docker("inspect", "--format", STATUS_FORMAT, *names, check=False).stdout
        rows = {}
        for line in out.splitlines():
            name, status, health = [*line.split("\t"), "", ""][:3]
            rows[name.lstrip("/")] = (status, health)
        bad = [n for n in names if rows.get(n, ("missing", ""))[0] not in ("running", "created")
               or rows[n][1] == "unhealthy"]
        if bad:
            raise RuntimeError(f"not running or unhealthy: "
                               f"{[(b, rows.get(b)) for b in bad[:5]]}")
        if all(rows[n] == ("running", "healthy") for n in names):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy within {timeout}s")
        time.sleep(POLL)


def container_ids(label_filter: str) -> list[str]:
    return docker("ps", "-aq", "--filter", f"label={label_filter}").stdout.split()


def check_state(label_filter: str, n: int) -> dict[str, str]:
    """name -> container ID, after asserting N containers running and healthy (untimed)."""
    ids = container_ids(label_filter)
    data = json.loads(docker("inspect", *ids).stdout) if ids else []
    states = {c["Name"].lstrip("/"): (c["State"]["Status"],
                                      (c["State"].get("Health") or {}).get("Status"))
              for c in data}
    if len(states) != n or any(s != ("running", "healthy") for s in states.values()):
        raise RuntimeError(f"expected {n} running healthy containers for {label_filter}, got "
                           f"{len(states)}: {Counter(states.values())}")
    return {c["Name"].lstrip("/"): c["Id"] for c in data}


def check_gone(label_filter: str) -> None:
    if container_ids(label_filter) or docker("network", "ls", "-q", "--filter",
                                             f"label={label_filter}").stdout.split():
        raise RuntimeError(f"teardown left resources labelled {label_filter}")


def check_changed(before: dict[str, str], after: dict[str, str], changed: set[str]) -> None:
    """Exactly the `changed` containers were replaced; every other keeps its ID."""
    replaced = {name for name in after if before.get(name) != after[name]}
    if replaced != changed or set(before) != set(after):
        raise RuntimeError(f"expected only {sorted(changed)} replaced, got {sorted(replaced)}")


# ---------------------------------------------------------------------------------------------
# Cleanup: by label only, never by name


def cleanup() -> None:
    for flt in (f"{CLUSTER_LABEL}={CD_CLUSTER}", f"com.docker.compose.project={COMPOSE_PROJECT}",
                f"{CLI_LABEL}=cli"):
        ids = container_ids(flt)
        if ids:
            docker("rm", "-f", "-v", *ids, check=False)
        nets = docker("network", "ls", "-q", "--filter", f"label={flt}").stdout.split()
        if nets:
            docker("network", "rm", *nets, check=False)
    for tool in ("clusterdeploy", "compose", "cli"):
        files = WORK / tool
        if files.exists():
            shutil.rmtree(files, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The three tools. Each phase function returns seconds; state checks are untimed.


class Shim:
    """A `docker` earlier on PATH that logs each call with its start and end time.

    Used only in the untimed counting pass (it forks `date` twice per call): it counts the
    docker calls of each clusterdeploy run and shows where the run's time goes.
    """

    MUTATING = frozenset({"create", "start", "stop", "rm", "kill", "network create", "network rm",
                          "build", "tag"})

    def __init__(self, root: Path):
        self.dir = root / "shim"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = root / "docker-calls.log"
        script = self.dir / "docker"
        script.write_text("#!/bin/sh\n"
                          "s=$(date +%s.%N)\n"
                          f'{DOCKER} "$@"\n'
                          "rc=$?\n"
                          'printf "%s %s %s %s\\n" "$s" "$(date +%s.%N)" "$1" "$2" '
                          '>> "$CDBENCH_DOCKER_LOG"\n'
                          "exit $rc\n")
        script.chmod(0o755)

    def env(self) -> dict[str, str]:
        self.log.write_text("")
        return {"PATH": f"{self.dir}:{os.environ['PATH']}", "CDBENCH_DOCKER_LOG": str(self.log)}

    def report(self, began: float, ended: float) -> dict:
        """Calls by command, and the run's timeline: start-up until the first docker call,
        observing, applying (first to last mutating call), waiting (health polls), exit."""
        calls = []
        for line in self.log.read_text().splitlines():
            words = line.split()
            if len(words) < 3:
                continue
            kind = " ".join(words[2:4]) if words[2] in ("network", "image", "container") \
                else words[2]
            calls.append((float(words[0]), float(words[1]), kind))
        calls.sort()
        kinds = Counter(kind for _, _, kind in calls)
        out: dict = {"total": len(calls), "by_command": dict(sorted(kinds.items())),
                     "wall": round(ended - began, 3)}
        if calls:
            mutating = [c for c in calls if c[2] in self.MUTATING]
            first_mut = mutating[0][0] if mutating else None
            last_mut = max(c[1] for c in mutating) if mutating else None
            observe_end = max((c[1] for c in calls if first_mut is None or c[0] < first_mut),
                              default=calls[0][0])
            timeline = {"before_first_docker_call": calls[0][0] - began,
                        "observe": observe_end - calls[0][0]}
            if mutating:
                timeline["between_observe_and_apply"] = first_mut - observe_end
                timeline["apply"] = last_mut - first_mut
                polls = [c for c in calls if c[0] >= last_mut]
                timeline["wait_healthy"] = (max(c[1] for c in polls) - last_mut) if polls else 0.0
                out["health_polls"] = len(polls)
            timeline["after_last_docker_call"] = ended - max(c[1] for c in calls)
            out["timeline"] = {k: round(v, 3) for k, v in timeline.items()}
        return out


class ClusterDeploy:
    tool = "clusterdeploy"
    label = f"{CLUSTER_LABEL}={CD_CLUSTER}"

    def __init__(self, n: int):
        self.n = n
        self.root = WORK / "clusterdeploy"
        self.spec = self.root / "cluster.json.yml"
        self.state = self.root / "state"
        self.extra_env: dict[str, str] = {}
        self.last_output = ""

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_spec(self.spec, self.n, changed=False)

    def pyinfra(self, script: str, expect: str | None = None) -> float:
        args = [str(PYINFRA), "-y", "inventory.py", script, "--data", f"state_dir={self.state}"]
        env = {**os.environ, "CLUSTER_SPEC": str(self.spec), **self.extra_env}
        start = time.perf_counter()
        result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT)
        elapsed = time.perf_counter() - start
        self.last_output = result.stdout + result.stderr
        if result.returncode != 0:
            raise RuntimeError(f"pyinfra {script} failed:\n{self.last_output[-4000:]}")
        if expect and expect not in self.last_output:
            raise RuntimeError(f"pyinfra {script}: expected {expect!r} in:\n"
                               f"{self.last_output[-3000:]}")
        return elapsed

    def cold(self) -> float:
        return self.pyinfra("deploy.py", "plan for cluster")

    def noop(self) -> float:
        return self.pyinfra("deploy.py", "is up to date")

    def change1(self) -> float:
        write_spec(self.spec, self.n, changed=True)
        return self.pyinfra("deploy.py", "recreate")

    def teardown(self) -> float:
        return self.pyinfra("teardown.py")

    def startup(self) -> float:
        """pyinfra with our inventory (spec load+validate), connecting, no operation."""
        return self.pyinfra(str(BENCH / "empty_deploy.py"))

    def startup_bare(self) -> float:
        """pyinfra alone: imports, an inline @local inventory, connecting, no operation."""
        start = time.perf_counter()
        result = subprocess.run([str(PYINFRA), "-y", "@local", str(BENCH / "empty_deploy.py")],
                                cwd=BENCH, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"bare pyinfra failed:\n{result.stderr[-2000:]}")
        return time.perf_counter() - start


class Compose:
    tool = "compose"
    label = f"com.docker.compose.project={COMPOSE_PROJECT}"

    def __init__(self, n: int):
        self.n = n
        self.root = WORK / "compose"
        self.file = self.root / "docker-compose.json"
        self.names = [container_name("compose", i) for i in range(1, n + 1)]

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        render_files("compose", self.n, self.root / "files")
        write_compose(self.file, self.n, False, self.root / "files")

    def compose(self, *args: str) -> None:
        # compose 1.x deadlocks with more services than COMPOSE_PARALLEL_LIMIT (default 64):
        # the per-service tasks hold every slot of the shared semaphore while their nested
        # create tasks wait for one (docker/compose#5864, #7486, #8226). Raise it past 2N.
        env = {**os.environ, "COMPOSE_PARALLEL_LIMIT": str(max(64, 4 * self.n))}
        result = subprocess.run([str(COMPOSE), "-p", COMPOSE_PROJECT, "-f", str(self.file), *args],
                                cwd=self.root, capture_output=True, text=True, env=env,
                                timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(f"docker-compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def up(self) -> float:
        start = time.perf_counter()
        self.compose("up", "-d", "--remove-orphans")
        wait_healthy(self.names)
        return time.perf_counter() - start

    def cold(self) -> float:
        return self.up()

    def noop(self) -> float:
        return self.up()

    def change1(self) -> float:
        write_compose(self.file, self.n, True, self.root / "files")
        return self.up()

    def teardown(self) -> float:
        start = time.perf_counter()
        self.compose("down", "--remove-orphans")
        return time.perf_counter() - start


class Cli:
    """The floor: the same docker commands by hand, at the same parallelism, no decisions."""

    tool = "cli"
    label = f"{CLI_LABEL}=cli"

    def __init__(self, n: int):
        self.n = n
        self.root = WORK / "cli"
        self.files = self.root / "files"
        self.names = [container_name("cli", i) for i in range(1, n + 1)]

    def prepare(self) -> None:
        render_files("cli", self.n, self.files)

    @staticmethod
    def parallel(units: list[list[list[str]]]) -> None:
        def run(commands: list[list[str]]) -> None:
            for command in commands:
                docker(*command)
        with concurrent.futures.ThreadPoolExecutor(PARALLELISM) as pool:
            for future in [pool.submit(run, u) for u in units]:
                future.result()

    def create_start(self, i: int, changed: bool) -> list[list[str]]:
        return [cli_create_args(self.n, i, changed, self.files),
                ["start", container_name("cli", i)]]

    def cold(self) -> float:
        start = time.perf_counter()
        docker("network", "create", "--driver", "bridge", "--subnet", subnet("cli"),
               "--gateway", address("cli", 0), "--label", f"{CLI_LABEL}=cli",
               TOOLS["cli"]["network"])
        self.parallel([self.create_start(i, False) for i in range(1, self.n + 1)])
        wait_healthy(self.names)
        return time.perf_counter() - start

    def noop(self) -> float:
        start = time.perf_counter()
        docker("inspect", *self.names)
        return time.perf_counter() - start

    def change1(self) -> float:
        start = time.perf_counter()
        name = container_name("cli", 1)
        self.parallel([[["stop", name], ["rm", "--force", "--volumes", name],
                        *self.create_start(1, True)]])
        wait_healthy(self.names)
        return time.perf_counter() - start

    def teardown(self) -> float:
        start = time.perf_counter()
        self.parallel([[["stop", n], ["rm", "--force", "--volumes", n]] for n in self.names])
        docker("network", "rm", TOOLS["cli"]["network"])
        return time.perf_counter() - start


TOOL_CLASSES = {"clusterdeploy": ClusterDeploy, "compose": Compose, "cli": Cli}


def cycle(runner, n: int) -> dict[str, float]:
    """cold, noop, change1, teardown for one tool, with untimed checks between phases."""
    runner.prepare()
    times = {"cold": runner.cold()}
    before = check_state(runner.label, n)
    times["noop"] = runner.noop()
    check_changed(before, check_state(runner.label, n), set())
    times["change1"] = runner.change1()
    check_changed(before, check_state(runner.label, n), {container_name(runner.tool, 1)})
    times["teardown"] = runner.teardown()
    check_gone(runner.label)
    return times


def count_pass(n: int) -> dict[str, dict]:
    """One untimed clusterdeploy cycle through the shim: docker calls and timeline per phase."""
    shim = Shim(WORK / "count")
    runner = ClusterDeploy(n)
    runner.prepare()
    counts = {}
    for phase in (*PHASES, "startup"):
        runner.extra_env = shim.env()
        began = time.time()
        getattr(runner, phase)()
        counts[phase] = shim.report(began, time.time())
    return counts


# ---------------------------------------------------------------------------------------------
# Report


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def summarize(raw: dict) -> dict:
    summary: dict = {}
    for n, per_tool in raw.items():
        row = summary.setdefault(n, {})
        for phase in PHASES:
            cd = median(per_tool.get("clusterdeploy", {}).get(phase, []))
            co = median(per_tool.get("compose", {}).get(phase, []))
            fl = median(per_tool.get("cli", {}).get(phase, []))
            row[phase] = {"clusterdeploy": cd, "compose": co, "cli": fl,
                          "vs_compose": ratio(cd, co), "vs_floor": ratio(cd, fl)}
        for key in ("startup", "startup_bare"):
            row[key] = median(per_tool.get("clusterdeploy", {}).get(key, []))
    return summary


def targets(summary: dict) -> list[dict]:
    out = []

    def get(n: int, phase: str, key: str):
        return summary.get(str(n), {}).get(phase, {}).get(key)

    def add(name: str, value, limit: float, detail: str):
        met = None if value is None else value <= limit
        out.append({"target": name, "value": value, "limit": limit, "met": met,
                    "detail": detail})

    add("no-op N=100 <= 0.6x compose's no-op", get(100, "noop", "vs_compose"), 0.6,
        "clusterdeploy / compose, N=100 no-op")
    a, b = get(5, "noop", "clusterdeploy"), get(100, "noop", "clusterdeploy")
    add("no-op grows < 1.5x from N=5 to N=100", ratio(b, a), 1.5 - 1e-9,
        "clusterdeploy no-op N=100 / N=5")
    for n in (30, 100):
        add(f"cold N={n} no slower than compose", get(n, "cold", "vs_compose"), 1.0,
            f"clusterdeploy / compose, N={n} cold")
    add("change-one N=30 no slower than compose", get(30, "change1", "vs_compose"), 1.0,
        "clusterdeploy / compose, N=30 change-one")
    return out


def fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown(result: dict) -> str:
    s, counts = result["summary"], result.get("docker_calls", {})
    lines = [
        f"# Deploy benchmark ({result['started']})",
        "",
        f"Machine: {result['machine']['summary']}. Medians of {result['reps']} runs, seconds; "
        "ratios are clusterdeploy's median over the other's.",
        "",
        "Health-check interval per N (see bench/README.md): "
        + ", ".join(f"N={n}: {s}s" for n, s in result["health_interval_s"].items())
        + f". Failed attempts (retried): {len(result['failures'])}.",
        "",
        "| N | phase | clusterdeploy | compose 1.29.2 | CLI floor | cd / compose | cd / floor "
        "| cd docker calls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, row in s.items():
        for phase in PHASES:
            r = row[phase]
            calls = counts.get(n, {}).get(phase, {}).get("total")
            lines.append(f"| {n} | {phase} | {fmt(r['clusterdeploy'])} | {fmt(r['compose'])} | "
                         f"{fmt(r['cli'])} | {fmt(r['vs_compose'])} | {fmt(r['vs_floor'])} | "
                         f"{'-' if calls is None else calls} |")
    lines += ["", "Start-up, measured apart: pyinfra alone (`pyinfra -y @local empty_deploy.py`: "
              "imports, inventory, connecting), the same with clusterdeploy's inventory "
              "(+ spec load and validation), and what a no-op costs beyond that (imports of "
              "the deploy code, rendering, the observation, planning):", "",
              "| N | pyinfra alone | + our inventory | no-op | no-op minus start-up |",
              "|---|---|---|---|---|"]
    for n, row in s.items():
        bare, st, no = row["startup_bare"], row["startup"], row["noop"]["clusterdeploy"]
        lines.append(f"| {n} | {fmt(bare)} | {fmt(st)} | {fmt(no)} | "
                     f"{fmt(None if st is None or no is None else no - st)} |")
    lines += ["", "Targets (what bounds each phase and what to change: `profile.md`, written by "
              "hand for the run of 2026-11-27):", ""]
    for t in result["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        lines.append(f"- {t['target']}: {fmt(t['value'])} ({t['detail']}; limit "
                     f"{t['limit']:.2f}) -> **{mark}**")
    if counts:
        lines += ["", "docker calls per clusterdeploy run, and where its time went (separate "
                  "untimed pass through a logging `docker` shim, which adds ~5 ms per call; "
                  "seconds):", "",
                  "| N | phase | calls | by command | wall | until 1st docker call | observe "
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
    return "\n".join(lines) + "\n"


def machine() -> dict:
    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = docker("version", "--format", "{{.Client.Version}} {{.Server.Version}}",
                      check=False).stdout.split()
    pyinfra_version = subprocess.run([str(PYINFRA), "--version"], capture_output=True,
                                     text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "clusterdeploy"],
                           capture_output=True, text=True).stdout.strip()
    info = {
        "cpus": os.cpu_count(), "memory": mem, "kernel": platform.release(),
        "python": platform.python_version(),
        "docker_client": versions[0] if versions else "?",
        "docker_server": versions[1] if len(versions) > 1 else "?",
        "pyinfra": pyinfra_version, "commit": commit,
        "clusterdeploy_dirty": bool(dirty),
    }
    info["summary"] = (f"{info['cpus']} cores, {mem}, Linux {info['kernel']}, dockerd "
                       f"{info['docker_server']} (CLI {info['docker_client']}), {pyinfra_version}, "
                       f"Python {info['python']}, clusterdeploy at {commit}"
                       f"{' + uncommitted changes' if dirty else ''}")
    return info


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5,30,100", help="comma-separated N (default 5,30,100)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--tools", default="clusterdeploy,compose,cli")
    parser.add_argument("--no-count", action="store_true", help="skip the docker-call count pass")
    parser.add_argument("--out", default=str(RESULTS / "latest"),
                        help="results path without extension (default bench/results/latest)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tools = args.tools.split(",")
    if docker("image", "inspect", SOURCE_IMAGE, check=False).returncode != 0:
        print(f"{SOURCE_IMAGE} is missing: build it first (scripts/deploy.sh)", file=sys.stderr)
        return 1
    if "compose" in tools and not COMPOSE.exists():
        print(f"{COMPOSE} is missing: see bench/README.md", file=sys.stderr)
        return 1

    result: dict = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "reps": args.reps, "sizes": sizes, "tools": tools, "parallelism": PARALLELISM,
                    "machine": machine(), "raw": {}, "docker_calls": {}, "failures": [],
                    "health_interval_s": {str(n): health_interval(n) for n in sizes},
                    "health_rate": HEALTH_RATE}
    WORK.mkdir(parents=True, exist_ok=True)
    cleanup()
    docker("tag", SOURCE_IMAGE, IMAGE)
    result["image_id"] = docker("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    try:
        for n in sizes:
            raw = result["raw"].setdefault(str(n), {})
            for rep in range(args.reps):
                for tool in tools:  # interleaved, so drifting load hits every tool alike
                    for attempt in range(1, ATTEMPTS + 1):
                        cleanup()
                        runner = TOOL_CLASSES[tool](n)
                        try:
                            times = cycle(runner, n)
                            if tool == "clusterdeploy":
                                times["startup"] = runner.startup()
                                times["startup_bare"] = runner.startup_bare()
                            break
                        except (RuntimeError, subprocess.TimeoutExpired) as exc:  # record, retry
                            log(f"N={n} rep {rep + 1} {tool} attempt {attempt} failed: {exc}")
                            result["failures"].append({"n": n, "rep": rep + 1, "tool": tool,
                                                       "attempt": attempt,
                                                       "error": str(exc)[-2000:]})
                            if attempt == ATTEMPTS:
                                raise
                    for phase, seconds in times.items():
                        raw.setdefault(tool, {}).setdefault(phase, []).append(round(seconds, 3))
                    log(f"N={n} rep {rep + 1}/{args.reps} {tool}: " +
                        ", ".join(f"{p} {t:.2f}s" for p, t in times.items()))
            if "clusterdeploy" in tools and not args.no_count:
                cleanup()
                result["docker_calls"][str(n)] = count_pass(n)
                log(f"N={n} docker calls: " + ", ".join(
                    f"{p} {c['total']}" for p, c in result["docker_calls"][str(n)].items()))
    finally:
        cleanup()
        docker("rmi", IMAGE, check=False)
        shutil.rmtree(WORK, ignore_errors=True)

    result["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
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

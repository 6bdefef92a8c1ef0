"""One variant of the multi-host benchmark (its spec, engines and state directory) and its
timed pyinfra runs, each with what every instrument saw during it.

Variants: `1host` (engine h1, a bridge network) and `3host` (engines h2-h4: a swarm and an
attachable overlay network). The cluster is bench/shape.py's (the same container as the
single-engine benchmark), with clusterdeploy's own image entry so that `images: ship` ships it
by content hash.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mh_calls import calls_summary, concurrency, read_calls, timeline
from mh_engines import REPO, EngineCpu, SshdLog, machine_jiffies
from shape import CLUSTER_LABEL, copy_templates, spec_defaults

if TYPE_CHECKING:
    from tests.integration.multi_host import DockerHostGroup

PYINFRA = Path(sys.executable).parent / "pyinfra"
VARIANTS: dict[str, list[int]] = {"1host": [1], "3host": [2, 3, 4]}
CLUSTER = "cdmhb"
NETWORK = "cdmhbNet"
CLUSTER_SUBNET = "172.31.6.0/24"
PORT_BASE = 47600
IMAGE_TAG = "cdmhb-my-db"  # the spec's image: `FROM <pinned base>`, shipped by content hash
COMMAND_TIMEOUT = 900
NOOP_TRIES = 3
HEALTH_SETTLE = 90.0  # seconds a state check waits for flapping health checks (untimed)


def write_spec(root: Path, n: int, hosts: list[dict[str, Any]], base_image: str) -> Path:
    """The spec (JSON is YAML) in `root`, with its templates and its image's Dockerfile beside
    it: clusterdeploy reads files only from the spec's folder or below it."""
    copy_templates(REPO / "docker-test" / "templates", root)
    image_dir = root / "image"
    image_dir.mkdir(parents=True, exist_ok=True)
    (image_dir / "Dockerfile").write_text(f"FROM {base_image}\n")
    spec = {
        "name": CLUSTER,
        "hosts": hosts,
        "network": {"name": NETWORK, "subnet": CLUSTER_SUBNET},
        "images": {"node": {"tag": IMAGE_TAG, "dockerfile": "image/Dockerfile",
                            "context": "image"}},
        "build": {"image": "node", "programs": []},
        "defaults": spec_defaults(n, IMAGE_TAG),
        "nodes": [{"name": f"node{i}", "hostname": f"node{i}",
                   "container_name": f"{CLUSTER}_node{i}",
                   "ports": [f"127.0.0.1:{PORT_BASE + i}:40404"]} for i in range(1, n + 1)],
        "tester": {"enabled": False},
    }
    path = root / "cluster.yml"
    path.write_text(json.dumps(spec, indent=1))
    return path


class Variant:
    def __init__(self, name: str, group: DockerHostGroup, work: Path, n: int, base_image: str,
                 shim_dir: Path, calls_dir: Path, cpu: dict[int, EngineCpu],
                 keep: Path | None) -> None:
        self.name = name
        self.group = group
        self.engines = VARIANTS[name]
        self.labels = [f"h{i}" for i in self.engines]
        self.n = n
        self.root = work / name
        self.state = self.root / "state"
        self.shim_dir = shim_dir
        self.calls_dir = calls_dir
        self.cpu = cpu
        self.sshd = {i: SshdLog(group.host(i)) for i in self.engines}
        self.keep = keep
        self.last_output = ""
        entries = group.spec_hosts("h", images="ship")
        self.spec = write_spec(self.root, n, [entries[i - 1] for i in self.engines], base_image)

    def call_log(self, label: str) -> Path:
        return self.calls_dir / f"{label}.log"

    def _start(self) -> dict[str, Any]:
        for label in [*self.labels, "here"]:
            self.call_log(label).write_text("")
        for i in self.engines:
            self.sshd[i].mark()
        return {"load": os.getloadavg()[0], "jiffies": machine_jiffies(),
                "cpu": {i: self.cpu[i].read() for i in self.engines},
                "client": resource.getrusage(resource.RUSAGE_CHILDREN)}

    def pyinfra(self, script: str, expect: str | None = None) -> dict[str, Any]:
        """One timed pyinfra run, with what every instrument saw during it."""
        args = [str(PYINFRA), "-y", "inventory.py", script, "--data", f"state_dir={self.state}"]
        env = {**os.environ, "CLUSTER_SPEC": str(self.spec), "PYTHONPATH": str(REPO),
               "PATH": f"{self.shim_dir}:{os.environ['PATH']}",
               "CDMHB_DOCKER_LOG": str(self.call_log("here"))}
        before = self._start()
        began = time.time()
        start = time.perf_counter()
        result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT)
        wall = time.perf_counter() - start
        client = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {i: self.cpu[i].read() for i in self.engines}
        jiffies = machine_jiffies()
        output = self.last_output = result.stdout + result.stderr
        self._keep(script, output)
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: pyinfra {script} failed:\n{output[-4000:]}")
        if expect and expect not in output:
            raise RuntimeError(f"{self.name}: pyinfra {script}: expected {expect!r} in:\n"
                               f"{output[-3000:]}")
        calls = {label: read_calls(self.call_log(label)) for label in [*self.labels, "here"]}
        engine_calls = {k: v for k, v in calls.items() if k != "here"}
        cores = os.cpu_count() or 1
        busy_j = jiffies[0] - before["jiffies"][0]
        total_j = jiffies[1] - before["jiffies"][1]
        engine_cpu = {f"h{i}": {k: round(cpu[i][k] - before["cpu"][i][k], 3) for k in cpu[i]}
                      for i in self.engines if cpu[i] and before["cpu"][i]}
        return {
            "wall": round(wall, 3),
            "load1_before": round(before["load"], 2),
            "load1_after": round(os.getloadavg()[0], 2),
            "machine_busy_cores": round(busy_j / total_j * cores, 2) if total_j else None,
            "client_cpu": round(client.ru_utime + client.ru_stime - before["client"].ru_utime
                                - before["client"].ru_stime, 3),
            "engine_cpu": engine_cpu,
            "calls": {label: calls_summary(c, began) for label, c in calls.items()},
            "timeline": timeline(engine_calls, began, wall),
            "concurrency": concurrency(engine_calls, wall),
            "ssh": {f"h{i}": self.sshd[i].since_mark() for i in self.engines},
        }

    def _keep(self, script: str, output: str) -> None:
        """With --keep: this run's call logs and pyinfra output, for a closer look."""
        if self.keep is None:
            return
        keep = self.keep / f"{len(list(self.keep.iterdir())) + 1:03d}-{self.name}-{script}"
        keep.mkdir(parents=True)
        for label in [*self.labels, "here"]:
            shutil.copy(self.call_log(label), keep / f"{label}.log")
        (keep / "output.txt").write_text(output)

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

    def check_up(self, settle: float = HEALTH_SETTLE) -> dict[str, dict[str, Any]]:
        """N containers running and healthy. Untimed, and given `settle` seconds: at a load
        of 50-100 on the 2 cores a health check can time out three times in a row after the
        deploy saw every node healthy, and turns healthy again with the load."""
        deadline = time.monotonic() + settle
        while True:
            state = self.containers()
            bad = {k: (v["status"], v["health"]) for k, v in state.items()
                   if (v["status"], v["health"]) != ("running", "healthy")}
            if len(state) == self.n and not bad:
                return state
            if time.monotonic() > deadline or len(state) != self.n or any(
                    status != "running" for status, _ in bad.values()):
                raise RuntimeError(f"{self.name}: expected {self.n} running healthy "
                                   f"containers, got {len(state)}, not healthy: "
                                   f"{dict(list(bad.items())[:5])}")
            time.sleep(2)

    def check_gone(self) -> None:
        left = self.containers()
        if left:
            raise RuntimeError(f"{self.name}: teardown left {sorted(left)[:5]}")

    # -- between cycles ------------------------------------------------------------------------

    def remove_by_label(self) -> None:
        """After a failed cycle: the cluster's containers and networks, by label only."""
        for i in self.engines:
            flt = f"label={CLUSTER_LABEL}={CLUSTER}"
            ids = self.group.docker(i, "ps", "-aq", "--filter", flt, check=False).stdout.split()
            if ids:
                self.group.docker(i, "rm", "-f", "-v", *ids, check=False, timeout=300)
            nets = self.group.docker(i, "network", "ls", "-q", "--filter", flt,
                                     check=False).stdout.split()
            if nets:
                self.group.docker(i, "network", "rm", *nets, check=False)
        shutil.rmtree(self.state, ignore_errors=True)

    def make_fresh(self) -> None:
        """As from nothing: no swarm, no image on the engines, no state directory."""
        self.remove_by_label()
        if any(self.group.swarm_state(i).get("LocalNodeState") != "inactive"
               for i in self.engines):
            self.group.reset_swarm()  # every engine leaves (none holds a container now)
        for i in self.engines:
            images = self.group.docker(i, "images", "-q").stdout.split()
            if images:
                self.group.docker(i, "rmi", "-f", *sorted(set(images)), timeout=300)


def noop(variant: Variant, runs: dict[str, Any]) -> dict[str, Any]:
    """A timed no-op redeploy: every host's plan up to date. Under heavy load a health check
    may flap between the state check and the redeploy, whose plan then only waits for that
    node: such a run is not timed as a no-op but counted and run again."""
    for _ in range(NOOP_TRIES):
        record = variant.pyinfra("deploy.py")
        output = variant.last_output
        if output.count("is up to date") == len(variant.engines):
            return record
        steps = [line.split("]", 1)[1].strip() for line in output.splitlines()
                 if line.strip().startswith("[h") and "]   " in line]
        if not steps or not all(s.startswith("wait healthy") for s in steps):
            raise RuntimeError(f"{variant.name}: the redeploy was not a no-op: {steps[:5]}")
        runs["noop_health_waits"] += 1
        variant.check_up()
    raise RuntimeError(f"{variant.name}: {NOOP_TRIES} redeploys waited for flapping health")


def cycle(variant: Variant, fresh: bool, noops: int) -> dict[str, Any]:
    """Cold deploy, `noops` no-op redeploys, teardown; the state checked between (untimed)."""
    runs: dict[str, Any] = {}
    runs["cold_fresh" if fresh else "cold"] = variant.pyinfra("deploy.py",
                                                             expect="plan for cluster")
    before = variant.check_up()
    runs["placement"] = dict(Counter(c["host"] for c in before.values()))
    runs["noop"], runs["noop_health_waits"] = [], 0
    for _ in range(noops):
        runs["noop"].append(noop(variant, runs))
        after = variant.check_up()
        if {k: v["id"] for k, v in after.items()} != {k: v["id"] for k, v in before.items()}:
            raise RuntimeError(f"{variant.name}: the no-op redeploy replaced containers")
    runs["teardown"] = variant.pyinfra("teardown.py")
    variant.check_gone()
    return runs

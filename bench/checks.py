"""The benchmark's own docker calls: the health wait every tool shares (compose and the floor
are timed until it passes), the untimed checks between phases, and the cleanup by label."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

from shape import CD_CLUSTER, CLI_LABEL, CLUSTER_LABEL, COMPOSE_PROJECT, TOOLS

DOCKER = shutil.which("docker", path="/usr/local/bin:/usr/bin:/bin") or "docker"
COMMAND_TIMEOUT = 600  # a hung tool fails the cycle (and is retried) instead of the run
POLL = 0.25  # same as clusterdeploy's health poll
HEALTH_TIMEOUT = 300.0
STATUS_FORMAT = "{{.Name}}\t{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}{{end}}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def docker(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env,
                            timeout=COMMAND_TIMEOUT)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {shlex.join(args)} failed: {result.stderr.strip()}")
    return result


def wait_healthy(names: list[str], timeout: float = HEALTH_TIMEOUT) -> None:
    """Poll `docker inspect` until every container runs healthy (compose and the floor; the
    same poll clusterdeploy's own wait makes)."""
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


def cleanup(work: Path) -> None:
    """Remove what any tool of the benchmark left: by label only, never by name."""
    for flt in (f"{CLUSTER_LABEL}={CD_CLUSTER}", f"com.docker.compose.project={COMPOSE_PROJECT}",
                f"{CLI_LABEL}=cli"):
        ids = container_ids(flt)
        if ids:
            docker("rm", "-f", "-v", *ids, check=False)
        nets = docker("network", "ls", "-q", "--filter", f"label={flt}").stdout.split()
        if nets:
            docker("network", "rm", *nets, check=False)
    for tool in TOOLS:
        shutil.rmtree(work / tool, ignore_errors=True)

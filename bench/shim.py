"""The untimed counting pass: one clusterdeploy cycle through a `docker` that logs each call,
for the calls per phase and where each run's time went."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

from checks import DOCKER
from tools import ClusterDeploy, Setup

PHASES = ("cold", "noop", "change1", "teardown", "startup")


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


def count_pass(setup: Setup, n: int) -> dict[str, dict]:
    """One untimed clusterdeploy cycle through the shim: docker calls and timeline per phase."""
    shim = Shim(setup.work / "count")
    runner = ClusterDeploy(setup, n)
    runner.prepare()
    counts = {}
    for phase in PHASES:
        runner.extra_env = shim.env()
        began = time.time()
        getattr(runner, phase)()
        counts[phase] = shim.report(began, time.time())
    return counts

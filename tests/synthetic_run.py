"""A run folder as docker/logs.py and the runner write it, made up: any number of nodes and
log lines, a node that crashed, fault windows in cluster.log (the fault injector's line
format), and the real captured output of a failing Go suite. For the report's unit tests,
its browser test at 100 nodes / 100,000 lines, and bench/report_load.py."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
START = datetime(2026, 11, 28, 8, 0, 0, tzinfo=UTC)
MESSAGES = ["request", "replicated write", "peer probe", "compaction done", "lease renewed",
            "snapshot taken", "slow follower", "election timeout"]


def stamp(seconds: float) -> str:
    moment = START + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}123Z"


def _write(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1) + "\n")


def make_run_folder(path: Path, nodes: int = 5, lines: int = 1000, crashed: int = 3,
                    faults: bool = True, suite: bool = True, duration: float = 120.0,
                    cluster: str = "syn") -> Path:
    """Write the folder; node `crashed` (1-based, 0: none) dies with exit code 2 at 60 % of
    the run. Every line of node k says `line <i> of node<k>`; one line of node 1 says
    `needle-in-the-logs`."""
    rng = random.Random(7)
    path.mkdir(parents=True, exist_ok=True)
    names = [f"{cluster}_node{i}" for i in range(1, nodes + 1)] + [f"{cluster}_tester"]
    members = [f"node{i}" for i in range(1, nodes + 1)] + ["tester"]
    crash_at = duration * 0.6
    shapes, summary, events = [], {}, []
    for index, (name, member) in enumerate(zip(names, members, strict=True)):
        shapes.append({
            "name": name, "member": member, "role": "tester" if member == "tester" else "node",
            "hostname": member,
            "addresses": {f"{cluster}Net": f"172.28.{index // 250}.{index % 250 + 2}"},
            "ports": [] if member == "tester" else [f"127.0.0.1:{41000 + index}->40404/tcp"],
            "image": "my-db:0123456789abcdef", "image_id": "sha256:" + "ab" * 32,
            "image_hash": "0123456789abcdef" * 4, "image_key": "node",
            "created": stamp(1 + index * 0.01)})
        dies = index + 1 == crashed
        summary[name] = {"member": member, "status": "exited",
                         "exit_code": 2 if dies else 0, "oom_killed": False,
                         "restart_count": 0, "health": "unhealthy" if dies else "healthy",
                         "started_at": stamp(2 + index * 0.01),
                         "finished_at": stamp(crash_at if dies else duration - 1),
                         "image": "my-db:0123456789abcdef", "log_lines": 0}
        events += [{"time": stamp(1 + index * 0.01), "container": name, "action": "create"},
                   {"time": stamp(2 + index * 0.01), "container": name, "action": "start"}]
        if member != "tester":
            events.append({"time": stamp(4 + index * 0.01), "container": name,
                           "action": "health_status", "health": "healthy"})
        if dies:
            events.append({"time": stamp(crash_at), "container": name, "action": "die",
                           "exit_code": 2})
        else:
            events += [{"time": stamp(duration - 1.2), "container": name, "action": "kill",
                        "signal": 15},
                       {"time": stamp(duration - 1), "container": name, "action": "die",
                        "exit_code": 0}]
    records: list[dict[str, Any]] = []
    for i in range(lines):
        node = rng.randrange(nodes)
        t = 3 + (duration - 5) * i / max(lines, 1)
        if node + 1 == crashed and t > crash_at:
            node = (node + 1) % nodes
        level = "error" if i % 997 == 0 else ("warn" if i % 101 == 0 else "info")
        message = "needle-in-the-logs" if i == lines // 2 else rng.choice(MESSAGES)
        records.append({"container": names[node], "time": stamp(t), "level": level,
                        "node": members[node], "message": message,
                        "fields": {"line": i, "of": f"node{node + 1}",
                                   "detail": f"line {i} of node{node + 1}"}})
    if crashed:
        records.append({"container": names[crashed - 1], "time": stamp(crash_at - 0.01),
                        "stream": "stderr", "message": "SIGABRT: abort"})
    if faults:
        records += _fault_lines(duration, nodes)
    records.sort(key=lambda r: r["time"])
    with (path / "cluster.log").open("w") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    for name in names:
        mine = [r for r in records if r["container"] == name]
        summary[name]["log_lines"] = len(mine)
        with (path / f"{name}.log").open("w") as out:
            for record in mine:
                out.write(json.dumps({k: v for k, v in record.items() if k != "container"}) + "\n")
    _write(path / "summary.json", summary)
    _write(path / "cluster.json", {"cluster": cluster, "host": "local",
                                   "collected_at": stamp(duration), "containers": shapes})
    _write(path / "events.json", {"since": stamp(0), "until": stamp(duration),
                                  "complete": True,
                                  "events": sorted(events, key=lambda e: e["time"])})
    if suite:
        _suite(path, duration, f"{cluster}_tester")
    return path


def _fault_lines(duration: float, nodes: int) -> list[dict[str, Any]]:
    def line(t: float, event: str, fault: str, id_: str, targets: list[str]) -> dict[str, Any]:
        return {"time": stamp(t), "container": "nemesis", "event": event, "fault": fault,
                "id": id_, "targets": targets, "detail": {"mode": "drop"}, "seed": 42}

    half = [f"node{i}" for i in range(1, min(nodes, 2) + 1)]
    return [line(duration * 0.3, "start", "partition", "f1", half),
            line(duration * 0.45, "end", "partition", "f1", half),
            line(duration * 0.7, "start", "pause", "f2", [f"node{nodes}"])]  # never ended


def _suite(path: Path, duration: float, tester: str) -> None:
    text = (FIXTURES / "gotest" / "fail.txt").read_text()
    count = text.count("\n")
    started = duration * 0.5
    times = [stamp(started + (duration * 0.4) * i / count) for i in range(count)]
    (path / "suite.log").write_text(text)
    _write(path / "suite.json", {
        "container": tester, "command": ["/root/service/cluster.test", "-test.v"],
        "started": stamp(started), "finished": stamp(started + duration * 0.4), "exit_code": 1,
        "interrupted": False, "line_times": times})

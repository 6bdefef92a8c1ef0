"""Collected logs: one folder per collection, never overwritten.

    <logs dir>/<UTC timestamp>/<container>.log   JSON lines, Docker's timestamp added where a
                                                  line has none; plain text becomes
                                                  {"time", "stream", "message"}
    <logs dir>/<UTC timestamp>/cluster.log       every container's lines merged by time, each
                                                  with "container", and the nemesis lines
                                                  (fault starts and ends, "container":
                                                  "nemesis") since the oldest container began
    <logs dir>/<UTC timestamp>/nemesis.log       those nemesis lines alone
    <logs dir>/<UTC timestamp>/summary.json      per container: state, exit code, OOM-killed,
                                                  restart count, started and finished
    <logs dir>/<UTC timestamp>/suite.log         the tester suite's output (written by `run`)
    <logs dir>/<UTC timestamp>/cluster.json      the cluster's shape (docker/runfacts.py)
    <logs dir>/<UTC timestamp>/events.json       the containers' lifecycle events
    <logs dir>/latest -> <UTC timestamp>
"""

from __future__ import annotations

import json
import os
import posixpath
import shlex
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..core import labels
from .engine import Engine
from .runfacts import merge_facts, run_facts

if TYPE_CHECKING:
    from docker.models.containers import Container


@dataclass(frozen=True)
class LogLine:
    docker_time: str  # RFC 3339 with nanoseconds, as Docker stamped it: sorts as text
    record: dict[str, Any]


def parse_log(raw: bytes, stream: str) -> list[LogLine]:
    """Lines of `docker logs --timestamps` output as JSON records."""
    lines = []
    for text in raw.decode("utf-8", errors="replace").splitlines():
        stamp, _, message = text.partition(" ")
        if not stamp:
            continue
        record: dict[str, Any]
        try:
            parsed = json.loads(message)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            record = parsed if "time" in parsed else {"time": stamp, **parsed}
        else:
            record = {"time": stamp, "stream": stream, "message": message}
        lines.append(LogLine(stamp, record))
    return lines


def container_summary(container: Container) -> dict[str, Any]:
    state = container.attrs.get("State", {})
    return {
        "member": container.labels.get(labels.MEMBER, ""),
        "status": state.get("Status", ""),
        "exit_code": state.get("ExitCode"),
        "oom_killed": state.get("OOMKilled", False),
        "restart_count": container.attrs.get("RestartCount", 0),
        "health": (state.get("Health") or {}).get("Status"),
        "started_at": state.get("StartedAt"),
        "finished_at": state.get("FinishedAt"),
        "image": container.attrs.get("Config", {}).get("Image"),
    }


def _read(container: Container) -> tuple[str, list[LogLine], dict[str, Any]]:
    container.reload()
    lines = (parse_log(container.logs(stdout=True, stderr=False, timestamps=True), "stdout")
             + parse_log(container.logs(stdout=False, stderr=True, timestamps=True), "stderr"))
    lines.sort(key=lambda line: line.docker_time)
    return container.name or "", lines, container_summary(container)


def new_run_dir(logs_dir: Path, now: datetime | None = None, label: str = "") -> Path:
    """A fresh folder named by the UTC time (and `label`); a second one in the same second gets
    a suffix."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ") + (f"-{label}" if label else "")
    logs_dir.mkdir(parents=True, exist_ok=True)
    candidate, n = logs_dir / stamp, 1
    while True:
        try:
            candidate.mkdir(mode=0o700)  # logs may hold what the cluster's secrets let out
            return candidate
        except FileExistsError:
            n += 1
            candidate = logs_dir / f"{stamp}-{n}"


def private_file(path: Path) -> IO[str]:
    """A new text file only this user reads (never an existing one: exclusive creation)."""
    return open(path, "x", encoding="utf-8", opener=_private)


def private_bytes(path: Path) -> IO[bytes]:
    return open(path, "xb", opener=_private)


def _private(name: str, flags: int) -> int:
    return os.open(name, flags, 0o600)


def _point_latest(logs_dir: Path, run_dir: Path) -> None:
    """`latest` -> the newest folder; a `latest` that is not our symlink is left alone."""
    link = logs_dir / "latest"
    if link.exists() and not link.is_symlink():
        return
    temp = logs_dir / f".latest-{os.getpid()}"
    if temp.is_symlink():
        temp.unlink()
    temp.symlink_to(run_dir.name)
    os.replace(temp, link)


NEMESIS_LOG = "nemesis.log"  # in the fault journal's directory (faults/journal.py)


def nemesis_lines(engine: Engine, faults_dir: str, since: str = "") -> list[LogLine]:
    """The nemesis log's lines on the host (fault starts and ends) stamped `since` or later."""
    if not faults_dir:
        return []
    path = posixpath.join(faults_dir, NEMESIS_LOG)
    result = engine.run_script(f"cat -- {shlex.quote(path)} 2>/dev/null; true")
    lines = []
    for text in result.stdout.splitlines():
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and str(record.get("time", "")) >= since:
            lines.append(LogLine(str(record["time"]), record))
    return lines


@dataclass(frozen=True)
class LogSource:
    """One Docker host's part of a collection: its engine, the name its lines carry ("" for
    a cluster on one host: lines without a host), its fault journal, its recorded events."""

    engine: Engine
    host: str = ""
    faults_dir: str = ""
    events: dict[str, Any] | None = None


def collect_logs(engine: Engine, cluster: str, logs_dir: Path,
                 only: Collection[str] | None = None, label: str = "",
                 events: dict[str, Any] | None = None, faults_dir: str = "",
                 latest: bool = True, before_stop: bool = False) -> Path | None:
    """Write the cluster's containers' logs (those whose ID is in `only`, when given) into a new
    folder, with the nemesis lines of the fault journal in `faults_dir`; None when there is no
    container. `events`: the run's, as an EventRecorder recorded them (else what the engine
    still holds); `latest`: point the logs folder's `latest` link at it; `before_stop`: no stop
    of these containers just ended (see `run_facts`)."""
    return collect_from([LogSource(engine, "", faults_dir, events)], cluster, logs_dir, only,
                        label, latest, before_stop)


def _read_source(source: LogSource, cluster: str, only: Collection[str] | None,
                 ) -> tuple[LogSource, list[Container], list[tuple[str, list[LogLine],
                                                                 dict[str, Any]]]]:
    containers = [c for c in source.engine.cluster_containers(cluster, sparse=True)
                  if only is None or c.id in only]  # _read reloads each one, concurrently
    with ThreadPoolExecutor(max_workers=8) as pool:
        return source, containers, list(pool.map(_read, containers))


def collect_from(sources: Sequence[LogSource], cluster: str, logs_dir: Path,
                 only: Collection[str] | None = None, label: str = "",
                 latest: bool = True, before_stop: bool = False) -> Path | None:
    """One folder with the logs of every host's containers (read at once): each container's
    file, `cluster.log` merged by Docker's timestamps (the order across hosts is as good as
    their clocks), each line naming its container and, over several hosts, its host."""
    with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
        read = list(pool.map(lambda s: _read_source(s, cluster, only), sources))
    if not any(containers for _, containers, _ in read):
        return None
    run_dir = new_run_dir(logs_dir, label=label)
    merged: list[LogLine] = []
    summary: dict[str, Any] = {}
    nemesis: list[LogLine] = []
    for source, containers, results in read:
        where = {"host": source.host} if source.host else {}
        for name, lines, info in results:
            with private_file(run_dir / f"{name}.log") as out:
                for line in lines:
                    out.write(json.dumps(line.record, ensure_ascii=False) + "\n")
            merged += [LogLine(line.docker_time, {"container": name, **where, **line.record})
                       for line in lines]
            summary[name] = {**info, **where, "log_lines": len(lines)}
        if containers:
            oldest = min(str(c.attrs.get("Created", "")) for c in containers)
            nemesis += nemesis_lines(source.engine, source.faults_dir, oldest)
    if nemesis:
        nemesis.sort(key=lambda line: line.docker_time)
        with private_file(run_dir / NEMESIS_LOG) as out:
            for line in nemesis:
                out.write(json.dumps(line.record, ensure_ascii=False) + "\n")
        merged += nemesis  # their "container" is "nemesis" already
    merged.sort(key=lambda line: line.docker_time)
    with private_file(run_dir / "cluster.log") as out:
        for line in merged:
            out.write(json.dumps(line.record, ensure_ascii=False) + "\n")
    with private_file(run_dir / "summary.json") as out:
        out.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    facts = [(s.host, run_facts(s.engine, cluster, containers, s.events, before_stop))
             for s, containers, _ in read if containers]
    for name, value in merge_facts(facts).items():
        with private_file(run_dir / name) as out:
            out.write(json.dumps(value, indent=1, sort_keys=True) + "\n")
    if latest:
        _point_latest(logs_dir, run_dir)
    return run_dir

"""The timeline as values: one lane per container (its states over time and the moments that
matter: created, started, healthy, unhealthy, killed, exited with a code, OOM-killed,
restarted), and the fault windows across them.

Times are microseconds since the epoch. The lanes come from Docker's events (events.json);
what the events lack (an engine that dropped them: `logs` and teardown read only what it
still holds) is filled in from `docker inspect` (cluster.json and summary.json): created,
last started, last finished with its exit code, OOM-killed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .runfolder import micros

# A state lasts from one event to the next; "absent" and "gone" are not drawn.
STATE_AFTER = {"create": "created", "start": "running", "die": "exited", "destroy": "gone",
               "pause": "paused"}
BEFORE_FIRST = {"create": "absent", "start": "absent"}  # else it existed and ran before
SAME_MOMENT_US = 1_000_000  # an inspect time within this of an event is that event


@dataclass(frozen=True)
class Mark:
    t: int
    kind: str  # create | start | healthy | unhealthy | kill | die | crash | oom | restart | ...
    label: str  # short text drawn beside it ("exit 2"), or ""
    detail: str  # the tooltip
    inferred: bool = False  # from docker inspect, not an event


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    state: str  # created | running | healthy | unhealthy | paused | exited


@dataclass
class Lane:
    container: str
    member: str
    role: str
    segments: list[Segment] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    ending: str = ""  # how it ended, in words ("exit code 2", "OOM-killed", "running")


@dataclass(frozen=True)
class FaultWindow:
    id: str
    fault: str
    targets: tuple[str, ...]  # node names as the fault names them
    containers: tuple[str, ...]  # the lanes it covers (every lane when none matched)
    start: int
    end: int
    open: bool  # no end event: still active when the logs were collected
    detail: str


def _event_mark(event: Mapping[str, Any], t: int) -> Mark | None:
    action = event.get("action")
    code = event.get("exit_code")
    if action == "die":
        crashed = isinstance(code, int) and code != 0
        return Mark(t, "crash" if crashed else "die", f"exit {code}" if crashed else "",
                    f"exited with code {code}")
    if action == "health_status":
        health = str(event.get("health", ""))
        return Mark(t, health if health in ("healthy", "unhealthy") else "health", "",
                    f"health: {health}")
    if action == "kill":
        return Mark(t, "kill", "", f"sent signal {event.get('signal', '?')}")
    if action == "oom":
        return Mark(t, "oom", "OOM", "killed: out of memory")
    if action in ("create", "start", "restart", "stop", "pause", "unpause", "destroy"):
        return Mark(t, str(action), "", str(action))
    return None


def _inferred(shape: Mapping[str, Any], summary: Mapping[str, Any],
              events: Sequence[tuple[int, Mapping[str, Any]]], t0: int, t1: int,
              ) -> list[tuple[int, dict[str, Any]]]:
    """Events that docker inspect proves and the event list lacks."""
    def missing(action: str, t: int | None) -> bool:
        return t is not None and t0 <= t <= t1 and not any(
            e.get("action") == action and abs(at - t) <= SAME_MOMENT_US for at, e in events)

    found: list[tuple[int, dict[str, Any]]] = []
    created, started = micros(shape.get("created")), micros(summary.get("started_at"))
    finished = micros(summary.get("finished_at"))
    if missing("create", created) and created is not None:
        found.append((created, {"action": "create", "inferred": True}))
    if missing("start", started) and started is not None:
        found.append((started, {"action": "start", "inferred": True}))
    if summary.get("status") == "exited" and missing("die", finished) and finished is not None:
        found.append((finished, {"action": "die", "exit_code": summary.get("exit_code"),
                                 "inferred": True}))
    if summary.get("oom_killed") and missing("oom", finished) and finished is not None:
        found.append((finished, {"action": "oom", "inferred": True}))
    return found


def _ending(summary: Mapping[str, Any]) -> str:
    status = summary.get("status") or "unknown"
    if status != "exited":
        return str(status)
    if summary.get("oom_killed"):
        return f"OOM-killed (exit {summary.get('exit_code')})"
    code = summary.get("exit_code")
    return "exited 0" if code == 0 else f"exit code {code}"


def build_lane(shape: Mapping[str, Any], summary: Mapping[str, Any],
               events: Sequence[Mapping[str, Any]], t0: int, t1: int, complete: bool) -> Lane:
    """One container's lane over [t0, t1]."""
    timed = sorted(((t, e) for e in events if (t := micros(e.get("time"))) is not None),
                   key=lambda pair: pair[0])
    timed = sorted([*timed, *_inferred(shape, summary, timed, t0, t1)], key=lambda p: p[0])
    lane = Lane(str(shape.get("name", "")), str(shape.get("member", "")),
                str(shape.get("role", "node")), ending=_ending(summary))
    first = str(timed[0][1].get("action")) if timed else ""
    state = BEFORE_FIRST.get(first, "running")
    if not timed:
        started = micros(summary.get("started_at"))
        state = "absent" if started is not None and started > t1 else (
            "exited" if summary.get("status") == "exited" else "running")
    if not complete and summary.get("status") == "running" and summary.get("health") and not any(
            e.get("action") == "health_status" for _, e in timed):
        # no health event survived: the last known health holds after the last start
        after_start = str(summary["health"]) if summary["health"] in (
            "healthy", "unhealthy") else "running"
    else:
        after_start = "running"
    since = t0
    for t, event in timed:
        action = str(event.get("action"))
        mark = _event_mark(event, t)
        if mark is not None and mark.kind not in ("stop", "unpause", "destroy"):
            if event.get("inferred"):
                mark = Mark(mark.t, mark.kind, mark.label, mark.detail + " (docker inspect)",
                            inferred=True)
            lane.marks.append(mark)
        if action == "health_status":
            new = {"healthy": "healthy", "unhealthy": "unhealthy"}.get(
                str(event.get("health")), state)
            new = new if state not in ("exited", "absent", "gone", "created") else state
        elif action == "start":
            new = after_start
        elif action == "unpause":
            new = "running"
        else:
            new = STATE_AFTER.get(action, state)
        if new != state:
            _close(lane, since, t, state, t0, t1)
            state, since = new, t
    _close(lane, since, t1, state, t0, t1)
    return lane


def _close(lane: Lane, start: int, end: int, state: str, t0: int, t1: int) -> None:
    start, end = max(start, t0), min(end, t1)
    if end > start and state not in ("absent", "gone"):
        lane.segments.append(Segment(start, end, state))


def fault_windows(records: Sequence[Mapping[str, Any]], containers_by_node: Mapping[str, str],
                  all_lanes: Sequence[str], t1: int) -> list[FaultWindow]:
    """Windows from the fault injector's lines in cluster.log: `{"event": "start"|"end",
    "fault", "id", "targets", "detail", "seed"}`, paired by id."""
    starts: dict[str, tuple[int, Mapping[str, Any]]] = {}
    windows: list[FaultWindow] = []

    def window(start: int, record: Mapping[str, Any], end: int, open_: bool) -> FaultWindow:
        targets = tuple(str(t) for t in record.get("targets") or [])
        covered = tuple(containers_by_node[t] for t in targets if t in containers_by_node)
        detail = ", ".join(f"{k}={v}" for k, v in sorted((record.get("detail") or {}).items()))
        if record.get("seed") is not None:
            detail = f"{detail}, seed={record['seed']}" if detail else f"seed={record['seed']}"
        return FaultWindow(str(record.get("id")), str(record.get("fault")), targets,
                           covered or tuple(all_lanes), start, end, open_, detail)

    for record in records:
        if "fault" not in record or record.get("event") not in ("start", "end"):
            continue
        t = micros(record.get("time"))
        if t is None:
            continue
        key = str(record.get("id"))
        if record["event"] == "start":
            starts[key] = (t, record)
        elif key in starts:
            start, opened = starts.pop(key)
            windows.append(window(start, opened, t, False))
    windows += [window(start, record, t1, True) for start, record in starts.values()]
    return sorted(windows, key=lambda w: (w.start, w.id))

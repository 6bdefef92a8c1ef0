"""A run folder as one value: the cluster, the timeline, the suite, the logs, and the few
sentences that say what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .lanes import FaultWindow, Lane, Mark, build_lane, fault_windows
from .logview import LogColumns, log_columns
from .runfolder import RunFolder, micros, utc_text
from .suite import SuiteView, read_suite


@dataclass(frozen=True)
class ContainerRow:
    name: str
    member: str
    role: str
    hostname: str
    addresses: str
    ports: str
    image: str
    image_hash: str
    state: str  # "running", "exited (2)", "OOM-killed (137)"
    health: str
    restarts: int
    log_lines: int


@dataclass
class Report:
    run_dir: Path
    cluster: str
    host: str
    t0: int
    t1: int
    rows: list[ContainerRow]
    lanes: list[Lane]
    faults: list[FaultWindow]
    suite: SuiteView
    logs: LogColumns
    events_complete: bool | None  # None: the folder has no events.json
    notes: list[str] = field(default_factory=list)

    def headline(self) -> list[str]:
        """What happened, in a few sentences (most important first)."""
        lines = [_suite_sentence(self.suite), _endings_sentence(self.lanes)]
        for lane in self.lanes:
            crashes: dict[int, Mark] = {}  # an OOM kill is also a death: one per moment
            for mark in lane.marks:
                if mark.kind == "oom" or (mark.kind == "crash" and mark.t not in crashes):
                    crashes[mark.t] = mark
            if crashes:
                last = crashes[max(crashes)]
                more = f" ({len(crashes)} times)" if len(crashes) > 1 else ""
                what = ("was OOM-killed" if last.kind == "oom"
                        else f"crashed ({last.label.replace('exit', 'exit code')})")
                lines.append(f"{lane.container} {what} at {utc_text(last.t)}{more}")
            restarts = sum(1 for m in lane.marks if m.kind == "restart")
            if restarts:
                lines.append(f"{lane.container} restarted {restarts} time"
                             f"{'s' if restarts > 1 else ''}")
            if any(m.kind == "unhealthy" for m in lane.marks):
                lines.append(f"{lane.container} turned unhealthy")
        if self.faults:
            kinds = sorted({w.fault for w in self.faults})
            lines.append(f"{len(self.faults)} fault{'s' if len(self.faults) > 1 else ''} "
                         f"injected ({', '.join(kinds)})")
        lines.append(f"{len(self.logs.t):,} log lines from {len(self.logs.containers)} "
                     f"sources, {self.logs.errors:,} marked as errors")
        return lines


def _suite_sentence(suite: SuiteView) -> str:
    if not suite.ran:
        return "No suite ran in this run (a deploy that failed, or logs collected on their own)"
    code = f" (exit {suite.exit_code})" if suite.exit_code is not None else ""
    if suite.go is None:
        return f"Suite {suite.status}{code}"
    tests = [t for t in suite.go.tests if "/" not in t.name]
    failed = [t.name for t in suite.go.tests if t.status == "fail" and not any(
        o.name.startswith(t.name + "/") and o.status == "fail" for o in suite.go.tests)]
    subtests = len(suite.go.tests) - len(tests)
    text = f"Suite {suite.status}{code}: {len(tests)} tests" + (
        f" ({subtests} subtests)" if subtests else "")
    if failed:
        text += f", failing: {', '.join(failed[:6])}" + (" ..." if len(failed) > 6 else "")
    return text


def _endings_sentence(lanes: list[Lane]) -> str:
    """`6 containers: 5 exit code 0, 1 exit code 2` (how each stood when collected)."""
    counts: dict[str, int] = {}
    for lane in lanes:
        counts[lane.ending] = counts.get(lane.ending, 0) + 1
    parts = ", ".join(f"{n} {ending}" for ending, n in sorted(counts.items()))
    return f"{len(lanes)} container{'s' if len(lanes) != 1 else ''} at collection: {parts}"


def _state(summary: Mapping[str, Any]) -> str:
    status = str(summary.get("status") or "unknown")
    if status != "exited":
        return status
    if summary.get("oom_killed"):
        return f"OOM-killed ({summary.get('exit_code')})"
    return f"exited ({summary.get('exit_code')})"


def _row(shape: Mapping[str, Any], summary: Mapping[str, Any]) -> ContainerRow:
    addresses = ", ".join(f"{a} ({n})" if len(shape.get("addresses") or {}) > 1 else str(a)
                          for n, a in (shape.get("addresses") or {}).items() if a)
    image_hash = str(shape.get("image_hash") or "")[:16]
    return ContainerRow(
        str(shape.get("name")), str(shape.get("member") or summary.get("member") or ""),
        str(shape.get("role") or "node"), str(shape.get("hostname") or ""), addresses or "-",
        ", ".join(shape.get("ports") or []) or "-",
        str(shape.get("image") or summary.get("image") or "-"), image_hash or "-",
        _state(summary), str(summary.get("health") or "-")
        if summary.get("status") == "running" else "-",
        int(summary.get("restart_count") or 0), int(summary.get("log_lines") or 0))


def _window(folder_events: Mapping[str, Any], summaries: Mapping[str, Any],
            shapes: list[dict[str, Any]], suite: SuiteView, collected: int | None,
            ) -> tuple[int, int]:
    starts = [micros(folder_events.get("since"))]
    ends = [micros(folder_events.get("until")), collected]
    if starts[0] is None:
        starts += [micros(s.get("created")) for s in shapes]
        starts += [micros(s.get("started_at")) for s in summaries.values()]
        ends += [micros(s.get("finished_at")) for s in summaries.values()]
    starts += [micros(e.get("time")) for e in folder_events.get("events") or []] + [suite.started]
    ends += [micros(e.get("time")) for e in folder_events.get("events") or []] + [suite.finished]
    t0 = min((t for t in starts if t is not None), default=None)
    t1 = max((t for t in ends if t is not None), default=None)
    if t0 is None or t1 is None:
        t0 = t1 = t0 or t1 or 0
    return t0, max(t1, t0 + 1_000_000)


def build_report(run_dir: Path) -> Report:
    folder = RunFolder(run_dir)
    summaries: dict[str, Any] = folder.json("summary.json", {})
    shape: dict[str, Any] = folder.json("cluster.json", {})
    events: dict[str, Any] = folder.json("events.json", {})
    shapes = [s for s in shape.get("containers") or [] if isinstance(s, dict)]
    known = {s.get("name") for s in shapes}
    shapes += [{"name": name, "member": info.get("member", ""),
                "role": "tester" if info.get("member") == "tester" else "node"}
               for name, info in sorted(summaries.items()) if name not in known]
    suite = read_suite(folder)
    t0, t1 = _window(events, summaries, shapes, suite, micros(shape.get("collected_at")))
    complete = bool(events.get("complete")) if events else None
    by_container: dict[str, list[dict[str, Any]]] = {}
    for event in events.get("events") or []:
        by_container.setdefault(str(event.get("container")), []).append(event)
    lanes = [build_lane(s, summaries.get(str(s["name"]), {}),
                        by_container.get(str(s["name"]), []), t0, t1, bool(complete))
             for s in shapes]
    records = list(folder.json_lines("cluster.log"))
    by_node = {str(s.get("member")): str(s["name"]) for s in shapes if s.get("member")}
    faults = fault_windows(records, by_node, [str(s["name"]) for s in shapes], t1)
    logs = log_columns(records, t0)
    report = Report(run_dir, str(shape.get("cluster") or _cluster_from_names(shapes)),
                    str(shape.get("host") or "-"), t0, t1,
                    [_row(s, summaries.get(str(s["name"]), {})) for s in shapes], lanes, faults,
                    suite, logs, complete, folder.notes)
    if complete is False:
        report.notes.append("The engine kept only its latest events (Docker holds 256): the "
                            "timeline adds what docker inspect knows (created, last start, "
                            "last exit). `run` records every event.")
    if events.get("error"):
        report.notes.append(f"Docker's events could not be read: {events['error']}")
    return report


def _cluster_from_names(shapes: list[dict[str, Any]]) -> str:
    names = [str(s.get("name", "")) for s in shapes]
    prefix = names[0].split("_")[0] if names else ""
    return prefix if prefix and all(n.startswith(prefix + "_") for n in names) else "-"

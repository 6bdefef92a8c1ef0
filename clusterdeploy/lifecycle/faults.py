"""The active faults as `fault list` and `status` show them: a row per journal entry, with
whether it still holds (a node started since has lost its rules; a paused node was unpaused)."""

from __future__ import annotations

from typing import Any

from ..clusterspec.faults import KILL, PAUSE, STOP
from ..faults.executor import Container, FaultExecutor
from ..faults.journal import JournalEntry


def holds(entry: JournalEntry, containers: dict[str, Container]) -> str:
    """`active`, or what undid it outside clusterdeploy."""
    state = {c: containers.get(c, Container(c, "missing", "")).status
             for c in entry.containers.values()}
    if entry.fault.kind == PAUSE:
        undone = [n for n, c in entry.containers.items() if state[c] != "paused"]
        return f"{', '.join(undone)} not paused any more" if undone else "active"
    if entry.fault.kind in (KILL, STOP):
        back = [n for n, c in entry.containers.items() if state[c] in ("running", "paused")]
        return f"{', '.join(back)} running again" if back else "active"
    lost = entry.restarted({c.name: c.started for c in containers.values()})
    if lost:
        return (f"rules lost on {', '.join(lost)} (started since; the next fault command "
                f"re-applies them)")
    return "active"


def fault_rows(executor: FaultExecutor) -> list[dict[str, Any]]:
    containers, entries, unreadable = executor.state()
    rows = [{"id": e.id, "fault": e.fault.kind, "what": e.fault.describe(),
             "targets": list(e.fault.targets), "since": e.since, "host": e.host, "by": e.by,
             "run": e.run, "seed": e.fault.seed, "state": holds(e, containers)}
            for e in entries]
    rows += [{"id": "?", "fault": "unreadable", "what": line[:80], "targets": [], "since": "",
              "host": executor.engine.name, "by": "", "run": None, "seed": None,
              "state": "unreadable journal entry (`clusterdeploy fault heal --all` clears it)"}
             for line in unreadable]
    return rows


def render_fault_table(rows: list[dict[str, Any]]) -> str:
    headers = ["ID", "SINCE", "HOST", "STATE", "FAULT"]
    table = [headers] + [[r["id"], r["since"][:19].replace("T", " ") or "-", r["host"],
                          r["state"], r["what"]] for r in rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(headers))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in table)

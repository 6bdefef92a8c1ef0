"""The fault journal on the Docker host, and the nemesis log beside it.

    <state_dir>/.clusterdeploy-faults/<cluster>/<fault id>.json   one active fault (one line)
    <state_dir>/.clusterdeploy-faults/<cluster>/nemesis.log        every start and end, JSON lines

An entry is written (atomically: a temporary file, then a rename) before its fault is applied,
and removed once it is healed; so whatever happens in between (a SIGKILLed runner, a lost SSH
connection), the journal names every namespace and container that may hold a fault. The
deploy's observation reads it (docker/observe.py), and every heal starts from it.

An entry, one line of JSON:
    {"id", "fault", "targets", "detail", "seed"}      the fault (faults/model.py)
    "since"       RFC 3339, when it was journaled
    "host"        the Docker host's name in the spec
    "by"          who applied it (user@machine, pid, command)
    "run"         the run whose schedule applied it, or null
    "helper"      the image that applied it (and heals it)
    "containers"  node -> container name
    "addresses"   node -> address
    "started"     container -> its State.StartedAt when the fault was applied: a container
                  started since then has a new network namespace without the fault's rules

A nemesis line: {"time", "container": "nemesis", "event": "start"|"end", "fault", "id",
"targets", "detail", "seed"}, merged by time into a collection's cluster.log (docker/logs.py).
"""

from __future__ import annotations

import base64
import json
import posixpath
import shlex
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ..docker.logs import NEMESIS_LOG
from .model import Fault
from .scripts import TIME_PLACEHOLDER

NEMESIS = "nemesis"


def rfc3339_now() -> str:
    """UTC now, with nanoseconds, as Docker stamps log lines."""
    ns = time.time_ns()
    seconds, fraction = divmod(ns, 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


@dataclass(frozen=True)
class JournalEntry:
    fault: Fault
    since: str
    host: str
    by: str
    helper: str
    containers: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    started: dict[str, str] = field(default_factory=dict)
    run: str | None = None

    @property
    def id(self) -> str:
        return self.fault.id

    def text(self) -> str:
        return json.dumps({**self.fault.as_json(), "since": self.since, "host": self.host,
                           "by": self.by, "run": self.run, "helper": self.helper,
                           "containers": self.containers, "addresses": self.addresses,
                           "started": self.started}, sort_keys=True)

    @classmethod
    def parse(cls, text: str) -> JournalEntry:
        data: dict[str, Any] = json.loads(text)
        return cls(Fault.from_json(data), str(data.get("since", "")),
                   str(data.get("host", "")), str(data.get("by", "")),
                   str(data.get("helper", "")), dict(data.get("containers") or {}),
                   dict(data.get("addresses") or {}), dict(data.get("started") or {}),
                   data.get("run"))

    def restarted(self, started_now: dict[str, str]) -> list[str]:
        """The nodes whose container started (or went) since the fault was applied."""
        return [node for node, container in self.containers.items()
                if self.started.get(container) and
                started_now.get(container) != self.started[container]]

    def with_started(self, started_now: dict[str, str]) -> JournalEntry:
        return replace(self, started={c: started_now.get(c, s) for c, s in self.started.items()})


def entry_path(directory: str, fault_id: str) -> str:
    return posixpath.join(directory, f"{fault_id}.json")


def _b64(text: str) -> str:
    return shlex.quote(base64.b64encode(text.encode()).decode())


def write_lines(directory: str, entry: JournalEntry) -> list[str]:
    """Shell that writes (or replaces) an entry atomically; exits the script when it cannot."""
    q = shlex.quote
    temporary = posixpath.join(directory, f".{entry.id}.tmp")
    encoded = _b64(entry.text() + "\n")
    return [f"( umask 077 && mkdir -p -- {q(directory)} && printf %s {encoded} "
            f"| base64 -d > {q(temporary)} && mv -f -- {q(temporary)} "
            f"{q(entry_path(directory, entry.id))} ) || {{ echo 'cannot write the fault "
            f"journal {directory}'; exit 1; }}"]


def remove_lines(directory: str, fault_ids: list[str]) -> list[str]:
    if not fault_ids:
        return []
    return ["rm -f -- " + " ".join(shlex.quote(entry_path(directory, i)) for i in fault_ids)]


def read_script(directory: str) -> str:
    """Every entry, one a line (the same reading as the deploy's observation)."""
    q = shlex.quote
    return (f"for f in {q(directory)}/*.json; do [ -f \"$f\" ] && {{ cat \"$f\"; echo; }}; "
            "done; true")


def nemesis_line(event: str, fault: Fault, when: str = TIME_PLACEHOLDER) -> str:
    """One nemesis log line; `when` defaults to the placeholder the host script fills in."""
    return json.dumps({"time": when, "container": NEMESIS, "event": event, "fault": fault.kind,
                       "id": fault.id, "targets": list(fault.targets), "detail": fault.detail,
                       "seed": fault.seed})


def nemesis_lines(directory: str, event: str, faults: list[Fault]) -> list[str]:
    """Shell that appends a line per fault to the nemesis log, stamped with the host's `$now`."""
    if not faults:
        return []
    q = shlex.quote
    text = "".join(nemesis_line(event, f) + "\n" for f in faults)
    return [f"( umask 077 && mkdir -p -- {q(directory)} && printf %s {_b64(text)} | base64 -d | "
            f"sed \"s/{TIME_PLACEHOLDER}/$now/\" >> {q(posixpath.join(directory, NEMESIS_LOG))} )"]


def parse_entries(text: str) -> tuple[list[JournalEntry], list[str]]:
    """Entries from `read_script`'s output, and the lines that are no entry (unreadable)."""
    entries, unreadable = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            entries.append(JournalEntry.parse(line))
        except (ValueError, KeyError, TypeError, AttributeError):
            unreadable.append(line)
    entries.sort(key=lambda e: (e.since, e.id))
    return entries, unreadable

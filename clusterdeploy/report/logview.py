"""The logs as the report's viewer needs them: every line of cluster.log (the merged file),
in its order (Docker's time), as four columns (compact for 100,000 lines):

    t  microseconds since the report's start (the line's own time, else the one before it)
    c  index into `containers`
    l  level: 0 debug, 1 info, 2 warn, 3 error (from the record's level, else guessed)
    m  the text: the message, then the other fields as key=value
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .runfolder import micros

LEVELS = ("debug", "info", "warn", "error")
LEVEL_NAMES = {"trace": 0, "debug": 0, "info": 1, "notice": 1, "warn": 2, "warning": 2,
               "error": 3, "err": 3, "fatal": 3, "panic": 3, "critical": 3, "crit": 3,
               "dpanic": 3, "alert": 3, "emerg": 3}
ERRORISH = re.compile(
    r"\b(panic|fatal|error|exception|failed)\b|\bSIG[A-Z]{3,}\b|^goroutine \d+ \[", re.IGNORECASE)
HIDDEN = ("time", "ts", "timestamp", "level", "lvl", "severity", "msg", "message", "container",
          "stream")


def level_of(record: Mapping[str, Any], text: str) -> int:
    for key in ("level", "lvl", "severity"):
        value = record.get(key)
        if isinstance(value, str) and value.lower() in LEVEL_NAMES:
            return LEVEL_NAMES[value.lower()]
    return 3 if ERRORISH.search(text) else 1


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def text_of(record: Mapping[str, Any]) -> str:
    message = record.get("message", record.get("msg", ""))
    parts = [_value(message)] if message != "" else []
    for key, value in record.items():
        if key in HIDDEN:
            continue
        if isinstance(value, dict):
            parts += [f"{k}={_value(v)}" for k, v in value.items()]
        else:
            parts.append(f"{key}={_value(value)}")
    return " ".join(parts)


@dataclass
class LogColumns:
    containers: list[str] = field(default_factory=list)
    t: list[int] = field(default_factory=list)
    c: list[int] = field(default_factory=list)
    l: list[int] = field(default_factory=list)  # noqa: E741 - the column's name in the page
    m: list[str] = field(default_factory=list)
    errors: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"containers": self.containers, "t": self.t, "c": self.c, "l": self.l,
                "m": self.m}


def log_columns(records: Iterable[Mapping[str, Any]], t0: int) -> LogColumns:
    columns = LogColumns()
    index: dict[str, int] = {}
    last = t0
    for record in records:
        name = str(record.get("container", "?"))
        if name not in index:
            index[name] = len(columns.containers)
            columns.containers.append(name)
        stamp = micros(record.get("time"))
        last = stamp if stamp is not None else last
        text = text_of(record)
        level = level_of(record, text)
        columns.t.append(last - t0)
        columns.c.append(index[name])
        columns.l.append(level)
        columns.m.append(text)
        columns.errors += level == 3
    return columns

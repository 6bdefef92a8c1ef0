"""How a node's log line looks on screen (pure: no I/O).

    node1  | 12:00:00.123 INFO  listening addr=0.0.0.0:40404 port=40404

Each line is prefixed by the node's name, padded to the longest name shown. A JSON object line
is pretty-printed as `time level message fields` (the time of day as the line has it; `fields`
flattened to `key=value`, nested keys dotted); any other line is printed as it is. On a terminal
the prefix has a colour per node and the level a colour per level; `raw` prints every line
exactly as the node wrote it. Docker's own timestamp (`docker logs --timestamps`) orders and
de-duplicates lines; it is not shown.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NODE_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")
LEVEL_COLOURS = {"TRACE": "2", "DEBUG": "2", "INFO": "32", "WARN": "33", "ERROR": "31",
                 "FATAL": "1;31", "PANIC": "1;31"}
LEVEL_NAMES = {"warning": "WARN", "err": "ERROR", "critical": "FATAL", "crit": "FATAL",
               "dpanic": "PANIC"}
PINO_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
TIME_KEYS = ("time", "ts", "timestamp", "@timestamp", "t")
LEVEL_KEYS = ("level", "lvl", "severity", "levelname")
MESSAGE_KEYS = ("message", "msg")
DIM = "2"

_STAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
                    r"(Z|[+-]\d\d:?\d\d)?")
_BARE = re.compile(r"[^\s\"'=\x00-\x1f]+")


def split_stamp(line: str) -> tuple[str, str]:
    """`<Docker timestamp> <payload>` -> (timestamp, payload)."""
    stamp, _, payload = line.partition(" ")
    return stamp, payload


def stamp_ns(stamp: str) -> int | None:
    """An RFC 3339 time (Docker's, with nanoseconds) as nanoseconds since the epoch."""
    match = _STAMP.fullmatch(stamp.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8) or "Z"
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds * 1_000_000_000 + int(fraction.ljust(9, "0") or 0)


@dataclass(frozen=True)
class Style:
    """Colours on (a terminal) or off."""

    colour: bool

    def paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text


def _time_of_day(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # milliseconds or seconds
        return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%S.%f")[:12]
    text = str(value)
    match = _STAMP.match(text)
    if match is None:
        return text
    fraction = (match.group(7) or "").ljust(3, "0")[:3]
    return f"{match.group(4)}:{match.group(5)}:{match.group(6)}.{fraction}"


def _level(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return PINO_LEVELS.get(value, str(value))
    text = str(value).strip()
    return LEVEL_NAMES.get(text.lower(), text.upper())


def _flatten(fields: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in fields.items():
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _value(value: Any) -> str:
    if isinstance(value, str) and _BARE.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _first(record: dict[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for key in keys:
        if key in record:
            return key, record[key]
    return None, None


def pretty(payload: str, style: Style, node: str = "") -> str:
    """A JSON object line as `time level message fields`; anything else unchanged."""
    try:
        record = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(record, dict):
        return payload
    record = dict(record)
    parts = []
    for keys, render in ((TIME_KEYS, lambda v: style.paint(DIM, _time_of_day(v))),
                         (LEVEL_KEYS, lambda v: style.paint(LEVEL_COLOURS.get(_level(v), ""),
                                                            _level(v).ljust(5))),
                         (MESSAGE_KEYS, str)):
        key, value = _first(record, keys)
        if key is not None:
            record.pop(key)
            parts.append(render(value))
    if record.get("node") == node:
        record.pop("node")  # the prefix says it
    fields = record.pop("fields", None)
    if fields is not None and not isinstance(fields, Mapping):
        record["fields"], fields = fields, None
    pairs = [*_flatten(record), *_flatten(fields or {})]
    parts += [f"{style.paint(DIM, key + '=')}{_value(value)}" for key, value in pairs]
    return " ".join(parts)


class Printer:
    """Lines of several nodes, each with its node's prefix (`raw` with one node: no prefix)."""

    def __init__(self, nodes: Sequence[str], colours: Mapping[str, int], style: Style,
                 raw: bool = False) -> None:
        self.style = style
        self.raw = raw
        self.prefixed = not raw or len(nodes) > 1
        self.width = max((len(n) for n in nodes), default=0)
        self.colours = colours

    def prefix(self, node: str) -> str:
        if not self.prefixed:
            return ""
        code = NODE_COLOURS[self.colours.get(node, 0) % len(NODE_COLOURS)]
        return self.style.paint(code, f"{node.ljust(self.width)} |") + " "

    def line(self, node: str, payload: str) -> str:
        body = payload if self.raw else pretty(payload, self.style, node)
        return self.prefix(node) + body

    def note(self, node: str, text: str) -> str:
        """What happened to the node's container, in the stream: `[exited with code 0]`."""
        return self.prefix(node) + self.style.paint(DIM, f"[{text}]")

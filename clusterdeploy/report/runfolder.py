"""Reading a run folder (docker/logs.py writes it) without trusting it: a missing or broken
file is an empty value and a note, never an exception, so a report is written for whatever
a run left behind (a deploy that failed, an interrupted suite, a folder from before the
report existed)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def micros(stamp: object) -> int | None:
    """RFC 3339 (any number of fraction digits, as Docker and Go write it) as microseconds
    since the epoch; None for anything else."""
    if not isinstance(stamp, str):
        return None
    found = RFC3339.match(stamp.strip())
    if not found:
        return None
    day, clock, fraction, zone = found.groups()
    seconds = _seconds(day, clock, "+00:00" if zone in (None, "Z") else zone)
    if seconds is None:
        return None
    return seconds * 1_000_000 + int((fraction or "0")[:6].ljust(6, "0"))


@lru_cache(maxsize=4096)
def _seconds(day: str, clock: str, zone: str) -> int | None:
    """Whole seconds since the epoch (cached: a run's lines share a few thousand seconds)."""
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{zone}")
    except ValueError:
        return None
    if moment.year < 1970:  # Docker's "0001-01-01T00:00:00Z": never
        return None
    return int(moment.timestamp())


def utc_text(us: int) -> str:
    """Microseconds since the epoch as `2026-11-28 08:13:45.398 UTC`."""
    moment = datetime.fromtimestamp(us / 1e6, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


@dataclass
class RunFolder:
    path: Path
    notes: list[str] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        try:
            return (self.path / name).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.notes.append(f"{name}: cannot be read ({exc.strerror})")
            return None

    def json(self, name: str, default: Any) -> Any:
        text = self.text(name)
        if text is None:
            return default
        try:
            value = json.loads(text)
        except ValueError as exc:
            self.notes.append(f"{name}: not JSON ({exc})")
            return default
        return value if isinstance(value, type(default)) else default

    def json_lines(self, name: str) -> Iterator[dict[str, Any]]:
        """The file's JSON objects, one a line; other lines are skipped (and counted)."""
        try:
            handle = (self.path / name).open(encoding="utf-8", errors="replace")
        except OSError:
            return
        skipped = 0
        with handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict):
                    yield record
                elif line.strip():
                    skipped += 1
        if skipped:
            self.notes.append(f"{name}: {skipped} lines are not JSON objects (left out)")

"""What a Dockerfile runs: its last CMD (and whether it sets an ENTRYPOINT), read statically."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Runs:
    """A Dockerfile's last CMD as an argument list (None: it has none), and whether it sets an
    ENTRYPOINT (which would receive the nodes' command as its arguments)."""

    command: tuple[str, ...] | None
    entrypoint: bool


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, rest) per logical line: continuations joined, comments dropped."""
    found, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        word, _, rest = (current + stripped).partition(" ")
        found.append((word.upper(), rest.strip()))
        current = ""
    return found


def _argv(rest: str) -> tuple[str, ...] | None:
    """Exec form (a JSON list of strings) as is; shell form as Docker runs it."""
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
        if isinstance(value, list):
            return None
    return ("/bin/sh", "-c", rest) if rest else None


def what_it_runs(text: str) -> Runs:
    command: tuple[str, ...] | None = None
    entrypoint = False
    for word, rest in _instructions(text):
        if word == "FROM":  # a new stage: only the last one's CMD counts
            command, entrypoint = None, False
        elif word == "CMD":
            command = _argv(rest)
        elif word == "ENTRYPOINT":
            entrypoint = True
    return Runs(command, entrypoint)

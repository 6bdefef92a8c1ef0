"""Progress of the long phases of a deploy (image builds, image transfers, the health wait),
so none runs silent: on a terminal one line per task, updated in place; otherwise plain lines,
one when something changes (a build's next step, the set of pending containers) and one every
`HEARTBEAT` seconds while nothing does. Lines go to stderr, as pyinfra's own output does, and
name the host the way pyinfra does (`    [@local] ...`)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO

HEARTBEAT = 10.0  # seconds between plain lines while nothing changes
REDRAW = 0.2  # seconds between in-place updates on a terminal
STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
WIDTH = 110


def elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m{whole % 60:02d}s"


class Progress:
    """One task's line."""

    def __init__(self, host: str, stream: IO[str] | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.prefix = f"    [{host}] "
        self.clock = clock
        self.started = clock()
        self._printed_at: float | None = None
        self._last = ""
        self._open = False  # a line written in place, not yet ended

    @property
    def seconds(self) -> float:
        return self.clock() - self.started

    def update(self, text: str, changed: bool = False) -> None:
        """Show `text`: at once when `changed` (or on a terminal, at most every REDRAW s),
        else as a plain line only after HEARTBEAT seconds of silence."""
        now = self.clock()
        since = None if self._printed_at is None else now - self._printed_at
        if self.tty:
            if changed or since is None or since >= REDRAW:
                self._write("\r\033[K" + self._fit(text))
                self._open, self._printed_at = True, now
        elif since is None or since >= HEARTBEAT or (changed and text != self._last):
            self._write(self.prefix + text + "\n")
            self._printed_at, self._last = now, text

    def done(self, text: str) -> None:
        """The task's last line (ends the line written in place)."""
        if self.tty:
            self._write("\r\033[K" + self._fit(text) + "\n")
        else:
            self._write(self.prefix + text + "\n")
        self._open = False

    def clear(self) -> None:
        """Remove the line written in place (nothing to say at the end)."""
        if self.tty and self._open:
            self._write("\r\033[K")
            self._open = False

    def _fit(self, text: str) -> str:
        line = self.prefix + text
        return line if len(line) <= WIDTH else line[:WIDTH - 3] + "..."

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class BuildProgress:
    """`build <image>: Step 7/14 RUN go build ... (42s)` from the legacy builder's output."""

    def __init__(self, progress: Progress, what: str) -> None:
        self.progress, self.what = progress, what
        self.step = "starting"
        self.progress.update(self._text(), changed=True)

    def _text(self) -> str:
        return f"build {self.what}: {self.step} ({elapsed(self.progress.seconds)})"

    def line(self, text: str) -> None:
        found = STEP.match(text.strip())
        if found:
            number, total, instruction = found.groups()
            self.step = f"Step {number}/{total} {' '.join(instruction.split())[:48]}"
            self.progress.update(self._text(), changed=True)
        else:
            self.tick()

    def tick(self) -> None:
        self.progress.update(self._text())

    def finish(self, ok: bool) -> None:
        outcome = "built" if ok else "failed at " + self.step
        self.progress.done(f"build {self.what}: {outcome} in {elapsed(self.progress.seconds)}")


def pending_text(pending: Sequence[tuple[str, str]], total: int, seconds: float,
                 shown: int = 6) -> str:
    """`waiting for health (12s): 3/6 ready; pending: ci_node2 (starting), ...`."""
    names = ", ".join(f"{name} ({state})" for name, state in pending[:shown])
    more = f" and {len(pending) - shown} more" if len(pending) > shown else ""
    return (f"waiting for health ({elapsed(seconds)}): {total - len(pending)}/{total} ready; "
            f"pending: {names}{more}")


def run_streaming(command: str, on_line: Callable[[str], None], on_idle: Callable[[], None],
                  env: dict[str, str] | None = None, idle: float = 1.0) -> tuple[int, list[str]]:
    """Run a shell command on this machine, its output (stdout and stderr together) handed to
    `on_line` line by line as it comes and `on_idle` called every `idle` seconds of silence;
    (exit status, output lines). pyinfra's connector hands output over only at the end."""
    process = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    lines: list[str] = []
    pending = b""
    with process.stdout:
        while True:
            ready, _, _ = select.select([descriptor], [], [], idle)
            if not ready:
                on_idle()
                continue
            chunk = os.read(descriptor, 65536)
            if not chunk:
                break
            *complete, pending = (pending + chunk).split(b"\n")
            for raw in complete:
                lines.append(raw.decode(errors="replace").rstrip("\r"))
                on_line(lines[-1])
    if pending:
        lines.append(pending.decode(errors="replace"))
        on_line(lines[-1])
    return process.wait(), lines

"""The health wait of a deploy: poll the containers' state until each runs and is healthy,
fail at once on one that exited, or at the deadline with each laggard's state and log tail.

A container without a health check is ready once it has kept running, same start time, for
SETTLE_SECONDS between two polls: a service that dies right after its start (a bad flag, an
OOM kill) fails the deploy instead of passing the first poll. Both polls read the Docker host's
own start time, so the host's clock may differ from ours.

A wait longer than QUIET seconds says which containers are still pending (deploy/progress.py)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from typing import Any

from pyinfra.api import StringCommand

from ..core.desired import DesiredContainer
from .output import fail
from .progress import Progress, elapsed, pending_text

LOG_TAIL_LINES = 20
SETTLE_SECONDS = 1.0
QUIET = 2.0  # seconds of waiting before the pending containers are shown
STATUS_FORMAT = ("{{.Name}}\t{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}"
                 "{{end}}\t{{.State.ExitCode}}\t{{.State.StartedAt}}")


def wait_healthy(state: Any, host: Any, targets: Sequence[DesiredContainer], poll: float,
                 where: str) -> bool:
    """A pyinfra FunctionCommand: True when every target runs and is healthy."""
    names = [c.name for c in targets]
    deadline = time.monotonic() + max(c.ready_timeout for c in targets)
    command = shlex.join(["docker", "inspect", "--format", STATUS_FORMAT, *names])
    first_seen: dict[str, tuple[str, float]] = {}  # name -> (StartedAt, when we saw it running)
    progress = Progress(host.name)
    shown: tuple[tuple[str, str], ...] = ()
    while True:
        _, output = host.run_shell_command(StringCommand(command))
        now = time.monotonic()
        rows = {}
        for line in output.stdout_lines:
            name, status, health, code, started = [*line.split("\t"), "", "", "", ""][:5]
            rows[name.lstrip("/")] = (status, health, code)
            seen = first_seen.get(name.lstrip("/"))
            if status == "running" and not health and (seen is None or seen[0] != started):
                first_seen[name.lstrip("/")] = (started, now)
        settled = {n for n, (_, seen) in first_seen.items() if now - seen >= SETTLE_SECONDS}
        # Exited or gone fails at once; unhealthy may still recover (a loaded machine makes
        # checks time out), so it waits like "starting" until the deadline.
        failed = [n for n in names if rows.get(n, ("missing",))[0] not in ("running", "created")]
        pending = [n for n in names if n not in failed and
                   (rows[n][0] != "running" or rows[n][1] not in ("", "healthy")
                    or (not rows[n][1] and n not in settled))]
        if not failed and not pending:
            if shown:
                progress.done(f"{len(names)} containers healthy after "
                              f"{elapsed(progress.seconds)}")
            return True
        if failed or time.monotonic() > deadline:
            progress.clear()
            return fail(host, "\n".join(_describe_unready(host, where, n, rows.get(n))
                                        for n in failed + pending))
        if progress.seconds >= QUIET:
            states = tuple((n, _pending_state(rows[n])) for n in pending)
            progress.update(pending_text(states, len(names), progress.seconds),
                            changed=states != shown)
            shown = states
        time.sleep(poll)  # cooperative: pyinfra's CLI runs under gevent's monkey patching


def _pending_state(row: tuple[str, str, str]) -> str:
    status, health, _ = row
    return health if status == "running" and health else status


def _describe_unready(host: Any, where: str, name: str, row: tuple[str, ...] | None) -> str:
    status, health, code = row if row else ("missing", "", "")
    _, output = host.run_shell_command(
        StringCommand(shlex.join(["docker", "logs", "--tail", str(LOG_TAIL_LINES), name])))
    lines = "\n".join("    " + line for line in output.output_lines[-LOG_TAIL_LINES:])
    health_text = f", health {health}" if health else ""
    return (f"{where}: {name} is not ready: state {status}{health_text}, exit code {code}\n"
            f"  last {LOG_TAIL_LINES} log lines:\n{lines or '    (no output)'}")

"""The cluster lock on a Docker host: one deploy, teardown or run of a cluster at a time.

Kamal's model: an atomic `mkdir` of `<state_dir>/.clusterdeploy-locks/<cluster>`, holding who
took it (user, machine, pid and its start time, the command, since when). A second taker waits
up to a bound, then fails naming the holder. A holder that died on this machine (its pid is
gone, or is another process now) is detected and its lock broken; one on another machine cannot
be checked from here, so `clusterdeploy lock release` is offered instead. Releasing and breaking
compare the holder first: a lock is only ever removed by the token that took it, or as the
stale lock it was proven to be. The scripts run through whatever reaches the host (pyinfra's
connection, or an Engine), given as a `run(script) -> (status, stdout)` callable.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import posixpath
import secrets
import shlex
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..clusterspec.durations import parse_duration
from ..errors import DeployError, on_host

TOKEN_ENV = "CLUSTERDEPLOY_LOCK_TOKEN"  # a run's lock, handed to the deploy it starts
DEFAULT_TIMEOUT = 300.0
POLL = 1.0

Run = Callable[[str], tuple[int, str]]


def lock_dir(state_dir: str, cluster: str) -> str:
    return posixpath.join(state_dir, ".clusterdeploy-locks", cluster)


def _machine() -> str:
    try:
        machine_id = Path("/etc/machine-id").read_text().strip()
    except OSError:
        machine_id = ""
    return f"{socket.gethostname()}/{machine_id[:12]}"


def _process_start(pid: int) -> str:
    """The start time of a process (field 22 of /proc/PID/stat): a pid and this together name
    one process, also after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


@dataclass(frozen=True)
class Holder:
    token: str
    user: str
    machine: str
    pid: int
    started: str
    command: str
    since: str

    @classmethod
    def here(cls, command: str, token: str | None = None) -> Holder:
        pid = os.getpid()
        return cls(token or secrets.token_hex(16), getpass.getuser(), _machine(), pid,
                   _process_start(pid), command,
                   datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        machine = self.machine.split("/", 1)[0]
        return (f"{self.user}@{machine} (pid {self.pid}, `{self.command}`) since "
                f"{self.since}")

    def died_here(self) -> bool:
        """Taken on this machine by a process that no longer runs."""
        return self.machine == _machine() and _process_start(self.pid) != self.started

    def text(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _b64(text: str) -> str:
    return shlex.quote(base64.b64encode(text.encode()).decode())


def acquire_script(directory: str, holder: Holder) -> str:
    q = shlex.quote
    return "\n".join([
        "umask 077",
        f"mkdir -p -- {q(posixpath.dirname(directory))} || exit 1",
        f"if mkdir -- {q(directory)} 2>/dev/null; then",
        f"  printf %s {_b64(holder.text())} | base64 -d > {q(directory)}/holder && echo taken",
        "else",
        f"  echo held; cat -- {q(directory)}/holder 2>/dev/null",
        "fi",
    ])


def remove_script(directory: str, holder: Holder) -> str:
    """Remove the lock if (and only if) `holder` still holds it."""
    q = shlex.quote
    return (f"if [ \"$(cat -- {q(directory)}/holder 2>/dev/null)\" = "
            f"\"$(printf %s {_b64(holder.text())} | base64 -d)\" ]; then "
            f"rm -rf -- {q(directory)} && echo removed; fi")


def show_script(directory: str) -> str:
    q = shlex.quote
    return f"cat -- {q(directory)}/holder 2>/dev/null || true"


def parse_holder(text: str) -> Holder | None:
    try:
        data = json.loads(text)
        return Holder(**{k: data[k] for k in Holder.__dataclass_fields__})
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class ClusterLock:
    """The lock of one cluster on one host, taken through `run`."""

    run: Run
    where: str  # the host, for messages
    directory: str
    holder: Holder
    taken: bool = False

    def acquire(self, timeout: float = DEFAULT_TIMEOUT,
                say: Callable[[str], None] = lambda text: None) -> None:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            status, output = self.run(acquire_script(self.directory, self.holder))
            first, _, rest = output.partition("\n")
            if status != 0:
                raise DeployError(on_host(self.where, f"cannot take the cluster lock "
                                                      f"{self.directory}: {output.strip()}"))
            if first.strip() == "taken":
                self.taken = True
                return
            current = parse_holder(rest.strip())
            if current is not None and current.token == self.holder.token:
                return  # ours: a run handed it to the deploy it started
            if current is not None and current.died_here():
                say(f"{self.where}: breaking the lock of {current.describe()}: that process "
                    f"is gone")
                self.run(remove_script(self.directory, current))
                continue
            if time.monotonic() > deadline:
                who = current.describe() if current else "an unreadable holder"
                raise DeployError(on_host(self.where, (
                    f"the cluster is locked by {who}; waited {timeout:g} s (wait for it, raise "
                    f"--data lock_timeout=SECONDS, or `clusterdeploy lock release` if it is "
                    f"gone)")))
            if not told:
                say(f"{self.where}: waiting for the cluster lock held by "
                    f"{current.describe() if current else '?'}")
                told = True
            time.sleep(POLL)

    def release(self) -> None:
        if self.taken:
            self.run(remove_script(self.directory, self.holder))
            self.taken = False


def timeout_seconds(value: object) -> float:
    """A lock timeout from pyinfra data or an option: seconds, or a duration like 5m."""
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value)) if str(value).replace(".", "", 1).isdigit() \
            else parse_duration(str(value))
    except ValueError:
        raise DeployError(f"lock_timeout {value!r} is not a number of seconds or a duration "
                          f"like 5m") from None


def inherited_token() -> str | None:
    return os.environ.get(TOKEN_ENV) or None


def command_line() -> str:
    return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]

"""Stopping a cluster: graceful (SIGTERM to every container at once, then its grace period)
or forced (SIGKILL at once). A forced stop may interrupt a graceful one that is under way."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from docker.errors import APIError
from docker.models.containers import Container


@dataclass(frozen=True)
class Ending:
    """How one container ended, for the runner's summary."""

    name: str
    status: str
    exit_code: int | None
    oom_killed: bool
    seconds: float
    forced: bool

    def __str__(self) -> str:
        how = "killed" if self.forced else "stopped"
        if self.status == "running":
            return f"{self.name}: still running"
        if self.exit_code == 0:
            result = "exited 0"
        elif self.oom_killed:
            result = f"OOM-killed (exit {self.exit_code})"
        else:
            result = f"exit code {self.exit_code}"
        return f"{self.name}: {how} in {self.seconds:.1f}s, {result}"


def name_of(container: Container) -> str:
    """The container's name (the SDK types it as optional; Docker always has one)."""
    return container.name or container.id or ""


def _ending(container: Container, started: float, forced: bool) -> Ending:
    container.reload()
    state = container.attrs.get("State", {})
    return Ending(name_of(container), state.get("Status", ""), state.get("ExitCode"),
                  bool(state.get("OOMKilled")), time.monotonic() - started, forced)


def stop_all(containers: list[Container], grace: Mapping[str, float],
             force: threading.Event, default_grace: float = 10.0) -> list[Ending]:
    """Stop every container in parallel; when `force` is set (now or later), kill the rest."""
    started = time.monotonic()
    killed: set[str] = set()
    lock = threading.Lock()

    def kill(container: Container) -> None:
        with lock:
            if name_of(container) in killed:
                return
            killed.add(name_of(container))
        with contextlib.suppress(APIError):  # already stopped
            container.kill()

    def stop(container: Container) -> Ending:
        if force.is_set():
            kill(container)
        else:
            with contextlib.suppress(APIError):
                container.stop(timeout=math.ceil(grace.get(name_of(container), default_grace)))
        return _ending(container, started, name_of(container) in killed)

    running = [c for c in containers if c.status == "running"]
    with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
        futures = [pool.submit(stop, c) for c in running]
        while not all(f.done() for f in futures):
            if force.wait(0.05):
                with ThreadPoolExecutor(max_workers=max(1, len(running))) as killers:
                    list(killers.map(kill, running))
                break
        endings = {f.result().name: f.result() for f in futures}
    others = [_ending(c, started, False) for c in containers if c.name not in endings]
    return sorted([*endings.values(), *others], key=lambda e: e.name)

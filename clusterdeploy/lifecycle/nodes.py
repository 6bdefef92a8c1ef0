"""Some nodes of a deployed cluster: their names, their hosts and containers, stop/start/restart.

A node is named as in the spec (`node2`, `tester`) or by its container's name; its container is
found by the cluster's labels, never by name. Stop is graceful by the container's own stop
timeout (its `stop_grace_period`, given to `docker create`), or a kill with `force`; other
containers are never touched.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docker.errors import APIError

from ..clusterspec import Host, Member, Spec
from ..core import labels
from ..core.desired import host_state_dir
from ..docker.engine import Engine
from ..docker.errors import explain
from ..docker.lock import ClusterLock, Holder, command_line, lock_dir
from ..errors import ClusterDeployError, DeployError, on_host
from .shutdown import Ending

if TYPE_CHECKING:
    from docker.models.containers import Container

DEFAULT_STOP_TIMEOUT = 10  # Docker's, for a container created without --stop-timeout


class UnknownNode(ClusterDeployError):
    """A name on the command line that is no node of the spec."""


def resolve(spec: Spec, names: Sequence[str]) -> list[Member]:
    """The members named (node names or container names), in order, each once; every unknown
    name in one line that lists the known ones."""
    known = {m.name: m for m in spec.members} | {m.container_name: m for m in spec.members}
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        what = "node" if len(unknown) == 1 else "nodes"
        raise UnknownNode(f"{spec.display}: cluster {spec.name} has no {what} "
                          f"{', '.join(unknown)} (its nodes: "
                          f"{', '.join(m.name for m in spec.members)}; container names work too)")
    return list(dict.fromkeys(known[n] for n in names))


def host_of(spec: Spec, member: Member) -> Host:
    """The Docker host a member runs on (placed by the spec: clusterspec/placement.py)."""
    return spec.host(member.host)


def by_host(spec: Spec, members: Sequence[Member]) -> dict[Host, list[Member]]:
    grouped: dict[Host, list[Member]] = {}
    for member in members:
        grouped.setdefault(host_of(spec, member), []).append(member)
    return grouped


def containers_of(engine: Engine, spec: Spec, members: Sequence[Member],
                  ) -> list[tuple[Member, Container]]:
    """Each member's container on the engine's host (by label); a missing one is an error
    that says to deploy."""
    found = {c.labels.get(labels.MEMBER, ""): c for c in engine.cluster_containers(spec.name)}
    missing = [m for m in members if m.name not in found]
    if missing:
        names = ", ".join(f"{m.name} ({m.container_name})" for m in missing)
        raise DeployError(on_host(engine.name, (
            f"cluster {spec.name} has no container for {names} (deploy it first: "
            f"`clusterdeploy deploy`)")))
    return [(m, found[m.name]) for m in members]


def say(message: str) -> None:
    print(f"[clusterdeploy] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def cluster_lock(engine: Engine, spec: Spec, state_dir: str, timeout: float) -> Iterator[None]:
    """The cluster's deploy lock on the engine's host, held for the block."""
    here = host_state_dir(state_dir, engine.name, spec.spans_hosts)
    lock = ClusterLock(engine.run, engine.name, lock_dir(here, spec.name),
                       Holder.here(command_line()))
    lock.acquire(timeout, say=say)
    try:
        yield
    finally:
        lock.release()


def stop_timeout(container: Container) -> int:
    value = container.attrs.get("Config", {}).get("StopTimeout")
    return DEFAULT_STOP_TIMEOUT if value is None else int(value)


def _state(container: Container) -> dict[str, Any]:
    state: dict[str, Any] = container.attrs.get("State", {})
    return state


def exited(container: Container) -> str:
    """How a stopped container ended: `exited 0`, `exit code 137`, `OOM-killed (exit 137)`
    (or its state: `created`, `paused`)."""
    state = _state(container)
    if state.get("Status") not in ("exited", "dead"):
        return str(state.get("Status", "?"))
    code = state.get("ExitCode")
    if state.get("OOMKilled"):
        return f"OOM-killed (exit {code})"
    return "exited 0" if code == 0 else f"exit code {code}"


def stop(name: str, container: Container, force: bool) -> Ending | str:
    """Stop one container; its Ending, or a line when it was not running."""
    if container.status != "running":
        return f"{name}: not running ({exited(container)})"
    began = time.monotonic()
    if force:
        with contextlib.suppress(APIError):  # it stopped on its own meanwhile
            container.kill()
        container.wait(timeout=60)
    else:
        container.stop(timeout=stop_timeout(container))
    container.reload()
    state = _state(container)
    return Ending(name, str(state.get("Status", "")), state.get("ExitCode"),
                  bool(state.get("OOMKilled")), time.monotonic() - began, force)


def start(name: str, container: Container) -> str:
    if container.status == "running":
        return f"{name}: already running"
    container.start()
    return f"{name}: started"


def restart(name: str, container: Container, force: bool) -> str:
    ended = stop(name, container, force)
    container.start()
    return f"{ended}; started"


@dataclass(frozen=True)
class Action:
    """stop, start or restart, with `force` for the stops."""

    kind: str
    force: bool = False

    def __call__(self, host: str, member: Member, container: Container) -> tuple[bool, str]:
        """(done, the node's line); a failure is one line naming the host and the node."""
        try:
            if self.kind == "stop":
                return True, str(stop(member.name, container, self.force))
            if self.kind == "start":
                return True, start(member.name, container)
            return True, restart(member.name, container, self.force)
        except APIError as exc:
            return False, explain(host, member.name, str(exc.explanation or exc))


def act(spec: Spec, names: Sequence[str], action: Action, state_dir: str,
        lock_timeout: float) -> list[tuple[bool, str]]:
    """Do `action` to the named nodes, all at once, under the cluster lock of each host;
    (done, line) per node, in the order named."""
    members = resolve(spec, names)
    results: dict[str, tuple[bool, str]] = {}
    for host, on_this in by_host(spec, members).items():
        with Engine(host) as engine, cluster_lock(engine, spec, state_dir, lock_timeout):
            targets = containers_of(engine, spec, on_this)
            with ThreadPoolExecutor(max_workers=len(targets)) as pool:
                done = pool.map(action, [host.name] * len(targets), *zip(*targets, strict=True))
                results.update(zip((m.name for m, _ in targets), done, strict=True))
    return [results[m.name] for m in members]
